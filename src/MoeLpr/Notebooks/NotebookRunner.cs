using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace MoeLpr.Notebooks;

/// <summary>
/// Runs the C# cells of a Polyglot <c>.ipynb</c> in order, headless, with Roslyn scripting: one script state
/// continued cell by cell (so variables carry over, as in the notebook kernel), MoeLpr and all its dependencies
/// referenced, <c>display</c>/<c>HTML</c>/<c>Parameters</c> as globals, console output captured per cell, and a
/// trailing expression shown as the cell's result. The executed notebook (outputs + execution counts) can be
/// written out; the first failing cell stops the run with a <see cref="NotebookExecutionException"/>.
/// </summary>
public static class NotebookRunner
{
    static readonly string[] DefaultImports =
        ["System", "System.IO", "System.Linq", "System.Collections.Generic", "System.Text", "System.Threading.Tasks"];

    static readonly Lazy<IReadOnlyList<Assembly>> KitAssemblies = new(() => ReferenceClosure(typeof(NotebookRunner).Assembly));

    // Metadata of the kit's assemblies, read once per process: every run and cell compiles against the same set.
    static readonly Lazy<IReadOnlyList<MetadataReference>> KitReferences = new(() => KitAssemblies.Value.Select(ReferenceTo).ToList());

    public static async Task<NotebookRunResult> RunAsync(string path, NotebookRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new NotebookRunOptions();
        var notebook = NotebookDocument.Load(path);
        var executed = (JsonObject)notebook.Root.DeepClone();
        var cells = executed["cells"]!.AsArray();
        var globals = new NotebookGlobals(options.Parameters ?? new NotebookParameters());
        var formatter = new OutputFormatter();
        var additional = (options.AdditionalReferences ?? []).Except(KitAssemblies.Value).ToList();
        var referencedNames = KitAssemblies.Value.Concat(additional).Select(a => a.GetName().Name!).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var scriptOptions = ScriptOptions.Default
            .WithReferences(KitReferences.Value.Concat(additional.Select(ReferenceTo)))
            .WithImports(DefaultImports)
            .WithFilePath(Path.GetFullPath(path));
        var notebookDirectory = Path.GetDirectoryName(Path.GetFullPath(path))!;

        ScriptState<object>? state = null;
        var executionCount = 0;
        var skippedCells = new List<string>();
        var skippedDirectives = new List<string>();

        for (var index = 0; index < cells.Count; index++)
        {
            var cell = cells[index]!.AsObject();
            if (cell["cell_type"]!.GetValue<string>() != "code") continue;
            cell["outputs"] = new JsonArray();
            cell["execution_count"] = null;
            var kernel = notebook.KernelOf(cell);
            if (kernel is not ("csharp" or "C#" or "c#"))
            {
                skippedCells.Add($"cell {index + 1} ({kernel})");
                continue;
            }

            cancellationToken.ThrowIfCancellationRequested();
            executionCount++;
            cell["execution_count"] = executionCount;
            var outputs = new CellOutputs(formatter);
            globals.CurrentCell = outputs;
            (string Name, string Value, IEnumerable<string> Traceback)? failure = null;
            using (ConsoleCapture.Begin(outputs))
            {
                try
                {
                    var code = CellCode.Prepare(NotebookDocument.SourceOf(cell), notebookDirectory, referencedNames);
                    skippedDirectives.AddRange(code.SkippedDirectives);
                    if (code.References.Count > 0) scriptOptions = scriptOptions.AddReferences(code.References.Select(r => MetadataReference.CreateFromFile(r)));
                    state = state is null
                        ? await CSharpScript.RunAsync(code.Code, scriptOptions, globals, typeof(NotebookGlobals), cancellationToken)
                        : await state.ContinueWithAsync(code.Code, scriptOptions, cancellationToken);
                    if (state.ReturnValue is { } value) outputs.AddResult(value, executionCount);
                }
                catch (CompilationErrorException e)
                {
                    failure = ("CompilationError", string.Join("; ", e.Diagnostics.Select(d => d.ToString())), e.Diagnostics.Select(d => d.ToString()));
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    var inner = Unwrap(e);
                    failure = (inner.GetType().Name, inner.Message, inner.ToString().Split('\n').Select(l => l.TrimEnd('\r')));
                }
                if (failure is { } error) outputs.AddError(error.Name, error.Value, error.Traceback);
            }
            globals.CurrentCell = null;
            cell["outputs"] = outputs.ToJson();

            if (failure is { } failed)
            {
                if (options.OutputPath is not null) NotebookDocument.Save(executed, options.OutputPath);
                throw new NotebookExecutionException(path, index + 1, failed.Name, failed.Value, options.OutputPath);
            }
        }

        if (options.OutputPath is not null) NotebookDocument.Save(executed, options.OutputPath);
        return new NotebookRunResult(path, options.OutputPath, executionCount, skippedCells, skippedDirectives, executed);
    }

    static MetadataReference ReferenceTo(Assembly assembly) =>
        assembly.IsDynamic || assembly.Location.Length == 0
            ? throw new ArgumentException($"assembly {assembly.GetName().Name} has no file to reference")
            : MetadataReference.CreateFromFile(assembly.Location);

    static Exception Unwrap(Exception e) => e switch
    {
        TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        AggregateException { InnerExceptions.Count: 1 } aggregate => Unwrap(aggregate.InnerExceptions[0]),
        _ => e,
    };

    // MoeLpr plus everything it references, transitively (TorchSharp, Plotly.NET, FSharp.Core, Data.Analysis,
    // the framework assemblies...), so notebook code can use any type the library's API exposes.
    static IReadOnlyList<Assembly> ReferenceClosure(Assembly root)
    {
        var seen = new Dictionary<string, Assembly>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<Assembly>([root]);
        while (pending.Count > 0)
        {
            var assembly = pending.Pop();
            if (assembly.IsDynamic || assembly.Location.Length == 0) continue;
            if (!seen.TryAdd(assembly.GetName().Name!, assembly)) continue;
            foreach (var name in assembly.GetReferencedAssemblies())
            {
                if (seen.ContainsKey(name.Name!)) continue;
                try { pending.Push(Assembly.Load(name)); }
                catch (Exception e) when (e is FileNotFoundException or FileLoadException) { } // optional dependencies a library never loads on this platform
            }
        }
        return seen.Values.ToList();
    }
}
