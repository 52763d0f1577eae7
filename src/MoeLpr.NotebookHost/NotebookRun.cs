namespace MoeLpr.NotebookHost;

/// <summary>How to run a notebook.</summary>
/// <param name="OutputPath">Where to write the executed notebook (with outputs); null writes nothing.</param>
/// <param name="Parameters">Environment variables to set while it runs (<c>MOELPR_NB_*</c>, see
/// NotebookParameters).</param>
/// <param name="Progress">Told which cell starts, for a console line per cell.</param>
public sealed record NotebookRunOptions(
    string? OutputPath = null,
    IReadOnlyDictionary<string, string>? Parameters = null,
    Action<string>? Progress = null);

/// <summary>What a successful run did.</summary>
public sealed record NotebookRunResult(string NotebookPath, string? OutputPath, int ExecutedCells);

/// <summary>
/// A notebook cell failed: the message names the notebook, the cell (1-based, counting every cell) and the error.
/// </summary>
public sealed class NotebookExecutionException(string notebookPath, int cellNumber, string errorName, string errorValue,
    string? outputPath)
    : Exception($"{notebookPath}: cell {cellNumber} failed: {errorName}: {errorValue}" +
        (outputPath is null ? "" : $" (outputs written to {outputPath})"))
{
    public string NotebookPath { get; } = notebookPath;

    public int CellNumber { get; } = cellNumber;

    public string ErrorName { get; } = errorName;

    public string ErrorValue { get; } = errorValue;

    /// <summary>The executed notebook written up to and including the failing cell's outputs, if requested.</summary>
    public string? OutputPath { get; } = outputPath;
}

/// <summary>
/// The process state a notebook runs in, as a Jupyter kernel has it: the notebook's folder as working directory (so
/// relative paths and the folder's nuget.config apply) and the run's parameters as environment variables. Restored on
/// dispose.
/// </summary>
internal sealed class RunEnvironment : IDisposable
{
    readonly string _previousDirectory = Environment.CurrentDirectory;
    readonly Dictionary<string, string?> _previousVariables = new(StringComparer.Ordinal);

    RunEnvironment(string directory, IReadOnlyDictionary<string, string>? variables)
    {
        foreach (var (name, value) in variables ?? new Dictionary<string, string>())
        {
            _previousVariables[name] = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }
        Environment.CurrentDirectory = directory;
    }

    public static RunEnvironment Enter(string directory, IReadOnlyDictionary<string, string>? variables) =>
        new(directory, variables);

    public void Dispose()
    {
        Environment.CurrentDirectory = _previousDirectory;
        foreach (var (name, value) in _previousVariables) Environment.SetEnvironmentVariable(name, value);
    }
}
