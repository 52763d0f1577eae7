namespace MoeLpr.Notebooks;

/// <summary>A notebook cell failed: the message names the notebook, the cell (1-based, as editors count) and the error.</summary>
public sealed class NotebookExecutionException(string notebookPath, int cellNumber, string errorName, string errorValue, string? outputPath)
    : Exception($"{notebookPath}: cell {cellNumber} failed: {errorName}: {errorValue}" + (outputPath is null ? "" : $" (outputs written to {outputPath})"))
{
    public string NotebookPath { get; } = notebookPath;
    public int CellNumber { get; } = cellNumber;
    public string ErrorName { get; } = errorName;
    public string ErrorValue { get; } = errorValue;
    /// <summary>The executed notebook written up to and including the failing cell's error output, if requested.</summary>
    public string? OutputPath { get; } = outputPath;
}
