using System.Text.Json.Nodes;

namespace MoeLpr.Notebooks;

/// <summary>
/// The Jupyter outputs of one cell, in the order they happen: console text (<c>stream</c>), <c>display_data</c>,
/// the trailing expression's <c>execute_result</c>, and an <c>error</c>. Console text written before a display
/// becomes its own stream output first, so text and pictures keep their order.
/// </summary>
internal sealed class CellOutputs
{
    readonly OutputFormatter _formatter;
    readonly List<JsonObject> _outputs = [];
    readonly object _gate = new();

    internal CellOutputs(OutputFormatter formatter) => _formatter = formatter;

    internal StringWriter StandardOutput { get; } = new();
    internal StringWriter StandardError { get; } = new();

    internal void AddDisplay(object? value)
    {
        lock (_gate)
        {
            FlushStreams();
            _outputs.Add(new JsonObject { ["data"] = _formatter.Format(value), ["metadata"] = new JsonObject(), ["output_type"] = "display_data" });
        }
    }

    internal void AddResult(object value, int executionCount)
    {
        lock (_gate)
        {
            FlushStreams();
            _outputs.Add(new JsonObject
            {
                ["data"] = _formatter.Format(value), ["execution_count"] = executionCount, ["metadata"] = new JsonObject(), ["output_type"] = "execute_result",
            });
        }
    }

    internal void AddError(string name, string value, IEnumerable<string> traceback)
    {
        lock (_gate)
        {
            FlushStreams();
            _outputs.Add(new JsonObject
            {
                ["ename"] = name, ["evalue"] = value, ["output_type"] = "error",
                ["traceback"] = new JsonArray(traceback.Select(line => (JsonNode?)JsonValue.Create(line)).ToArray()),
            });
        }
    }

    internal JsonArray ToJson()
    {
        lock (_gate)
        {
            FlushStreams();
            return new JsonArray(_outputs.Select(o => (JsonNode?)o.DeepClone()).ToArray());
        }
    }

    void FlushStreams()
    {
        Flush(StandardOutput, "stdout");
        Flush(StandardError, "stderr");
    }

    void Flush(StringWriter writer, string name)
    {
        string text;
        lock (writer) // the console router writes under the same lock
        {
            text = writer.ToString();
            writer.GetStringBuilder().Clear();
        }
        if (text.Length == 0) return;
        _outputs.Add(new JsonObject { ["name"] = name, ["output_type"] = "stream", ["text"] = NotebookText.ToLines(text) });
    }
}
