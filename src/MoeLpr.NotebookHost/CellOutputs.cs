using System.Text;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;

namespace MoeLpr.NotebookHost;

/// <summary>
/// A cell's kernel events as Jupyter outputs, in the order they happened: console text as streams (consecutive writes
/// joined), displays (an update replaces the display it updates), the return value, compiler diagnostics as text, and
/// the error that failed the cell.
/// </summary>
internal sealed class CellOutputs
{
    readonly List<InteractiveDocumentOutputElement> _elements = [];
    readonly Dictionary<string, int> _displayIndex = new(StringComparer.Ordinal);
    readonly List<string> _errorDiagnostics = [];
    (string Name, StringBuilder Text)? _stream;

    public IReadOnlyList<InteractiveDocumentOutputElement> Elements => _elements;

    public (string Name, string Message)? Failure { get; private set; }

    /// <summary>
    /// Runs the cell and collects every event the kernel publishes meanwhile, as a Jupyter front end does: the cell's
    /// command result alone leaves out what child commands show (such as a package's extension script).
    /// </summary>
    public static async Task<CellOutputs> RunAsync(Kernel kernel, SubmitCode cell, int executionCount,
        CancellationToken cancellationToken)
    {
        var collector = new Collector();
        using (kernel.KernelEvents.Subscribe(collector)) await kernel.SendAsync(cell, cancellationToken);
        var outputs = new CellOutputs();
        foreach (var @event in collector.Events) outputs.Add(@event, cell, executionCount);
        outputs.FlushStream();
        return outputs;
    }

    void Add(KernelEvent @event, KernelCommand cell, int executionCount)
    {
        switch (@event)
        {
            case StandardOutputValueProduced stdout:
                Write("stdout", stdout.FormattedValues);
                break;
            case StandardErrorValueProduced stderr:
                Write("stderr", stderr.FormattedValues);
                break;
            case DiagnosticsProduced diagnostics when diagnostics.Diagnostics.Count > 0:
                Write("stdout", diagnostics.FormattedDiagnostics);
                _errorDiagnostics.AddRange(diagnostics.Diagnostics
                    .Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error)
                    .Select(d => $"({d.LinePositionSpan.Start.Line + 1},{d.LinePositionSpan.Start.Character + 1}): " +
                                 $"error {d.Code}: {d.Message}"));
                break;
            case ReturnValueProduced { Value: not DisplayedValue } returned:
                FlushStream();
                var result = new ReturnValueElement { ExecutionOrder = executionCount };
                foreach (var value in returned.FormattedValues) result.Data[value.MimeType] = value.Value;
                _elements.Add(result);
                break;
            case ErrorProduced error:
                FlushStream();
                _elements.Add(new ErrorElement(error.Message));
                break;
            case DisplayedValueUpdated updated
                when updated.ValueId is not null && _displayIndex.TryGetValue(updated.ValueId, out var index):
                _elements[index] = Display(updated);
                break;
            case DisplayEvent display and not ReturnValueProduced:
                FlushStream();
                if (display.ValueId is not null) _displayIndex[display.ValueId] = _elements.Count;
                _elements.Add(Display(display));
                break;
            case CommandFailed failed when failed.Command == cell:
                FlushStream();
                var name = _errorDiagnostics.Count > 0 ? "CompilationError"
                    : failed.Exception?.GetType().Name ?? "Error";
                var message = _errorDiagnostics.Count > 0 ? string.Join("; ", _errorDiagnostics)
                    : (failed.Exception?.Message ?? failed.Message).Split('\n')[0].TrimEnd('\r');
                _elements.Add(
                    new ErrorElement(message, name, (failed.Exception?.ToString() ?? failed.Message).Split('\n')));
                Failure = (name, message);
                break;
        }
    }

    void Write(string name, IEnumerable<FormattedValue> values)
    {
        var text = values.FirstOrDefault(v => v.MimeType == PlainTextFormatter.MimeType)?.Value ?? "";
        if (_stream is { } open && open.Name != name) FlushStream();
        _stream ??= (name, new StringBuilder());
        _stream.Value.Text.Append(text);
    }

    void FlushStream()
    {
        if (_stream is not { } open) return;
        if (open.Text.Length > 0) _elements.Add(new TextElement(open.Text.ToString(), open.Name));
        _stream = null;
    }

    static DisplayElement Display(DisplayEvent display) =>
        new(display.FormattedValues.ToDictionary(v => v.MimeType, v => (object)v.Value));

    sealed class Collector : IObserver<KernelEvent>
    {
        readonly List<KernelEvent> _events = [];

        public IReadOnlyList<KernelEvent> Events { get { lock (_events) return [.. _events]; } }

        public void OnNext(KernelEvent value) { lock (_events) _events.Add(value); }

        public void OnError(Exception error) { }

        public void OnCompleted() { }
    }
}
