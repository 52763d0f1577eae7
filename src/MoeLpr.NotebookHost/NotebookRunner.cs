using System.Diagnostics.CodeAnalysis;
using System.Text;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Documents.Jupyter;
using Microsoft.DotNet.Interactive.Events;
using MoeLpr.Notebooks;

namespace MoeLpr.NotebookHost;

/// <summary>
/// Runs a notebook top to bottom in this process with the real .NET Interactive engine (the C# kernel,
/// <c>#r "nuget:"</c> restore, package kernel extensions), the way Jupyter's <c>.net-csharp</c> kernel runs it: cells
/// in order, in the notebook's folder, parameters as <c>MOELPR_NB_*</c> environment variables. Writes the executed
/// notebook with every output; the first failing cell stops the run with a <see cref="NotebookExecutionException"/>
/// naming it.
/// </summary>
public static class NotebookRunner
{
    /// <summary>Why the engine cannot run in a trimmed app.</summary>
    public const string NeedsReflection = "the .NET Interactive engine loads kernel extensions and compiles cells " +
                                          "against the full framework; run notebooks from the kit's build";

    [RequiresUnreferencedCode(NeedsReflection)]
    public static async Task<NotebookRunResult> RunAsync(string path, NotebookRunOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new NotebookRunOptions();
        var notebook = await ReadAsync(path, cancellationToken);
        var executed = new InteractiveDocument();
        foreach (var (key, value) in notebook.Metadata) executed.Metadata[key] = value;

        using var kernel = NotebookKernels.Create();
        using var _ = RunEnvironment.Enter(Path.GetDirectoryName(Path.GetFullPath(path))!, options.Parameters);
        var codeCells = notebook.Elements.Count(IsCode);
        var executionCount = 0;
        for (var index = 0; index < notebook.Elements.Count; index++)
        {
            var cell = notebook.Elements[index];
            if (!IsCode(cell))
            {
                executed.Add(cell);
                continue;
            }
            if (!NotebookKernels.CSharpNames.Contains(cell.KernelName ?? ""))
                throw new NotebookExecutionException(path, index + 1, "UnsupportedKernel",
                    $"the cell's kernel is '{cell.KernelName}'; moelpr notebook run hosts the C# kernel only", null);

            cancellationToken.ThrowIfCancellationRequested();
            executionCount++;
            options.Progress?.Invoke(
                $"{Path.GetFileName(path)}: cell {index + 1} ({executionCount}/{codeCells} code cells)");
            var outputs = await CellOutputs.RunAsync(kernel, new SubmitCode(cell.Contents, cell.KernelName),
                executionCount, cancellationToken);
            executed.Add(new InteractiveDocumentElement(cell.Contents, cell.KernelName, outputs.Elements)
            {
                Id = cell.Id, Metadata = cell.Metadata, ExecutionOrder = executionCount,
            });
            if (outputs.Failure is { } failure)
            {
                // the whole notebook, as Jupyter saves it
                foreach (var unrun in notebook.Elements.Skip(index + 1)) executed.Add(unrun);
                await SaveAsync(executed, options.OutputPath, cancellationToken);
                throw new NotebookExecutionException(path, index + 1, failure.Name, failure.Message,
                    options.OutputPath);
            }
        }
        await SaveAsync(executed, options.OutputPath, cancellationToken);
        return new NotebookRunResult(path, options.OutputPath, executionCount);
    }

    /// <summary>
    /// The parameters the notebook's code cells read by name (see <see cref="NotebookParameters.NamesReadIn"/>).
    /// </summary>
    public static async Task<IReadOnlySet<string>> ParameterNamesAsync(string path,
        CancellationToken cancellationToken = default)
    {
        var notebook = await ReadAsync(path, cancellationToken);
        return notebook.Elements.Where(IsCode)
            .SelectMany(cell => NotebookParameters.NamesReadIn(cell.Contents)).ToHashSet(StringComparer.Ordinal);
    }

    static bool IsCode(InteractiveDocumentElement cell) =>
        !string.Equals(cell.KernelName, "markdown", StringComparison.OrdinalIgnoreCase);

    static async Task<InteractiveDocument> ReadAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: notebook not found");
        try
        {
            var text = await File.ReadAllTextAsync(path, cancellationToken);
            // Any JSON object parses as an empty notebook; a notebook has its cells.
            if (System.Text.Json.Nodes.JsonNode.Parse(text)?["cells"] is not System.Text.Json.Nodes.JsonArray)
                throw new InvalidDataException($"{path}: not a Jupyter notebook (no \"cells\" list)");
            return Notebook.Parse(text, NotebookKernels.DocumentKernels);
        }
        catch (Exception e)
            when (e is System.Text.Json.JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{path}: not a Jupyter notebook ({e.Message})", e);
        }
    }

    static async Task SaveAsync(InteractiveDocument executed, string? outputPath, CancellationToken cancellationToken)
    {
        if (outputPath is null) return;
        var directory = Path.GetDirectoryName(Path.GetFullPath(outputPath));
        if (directory is not null) Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(outputPath, executed.ToJupyterJson(), new UTF8Encoding(false), cancellationToken);
    }
}
