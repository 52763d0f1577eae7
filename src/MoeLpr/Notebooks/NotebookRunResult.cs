using System.Text.Json.Nodes;

namespace MoeLpr.Notebooks;

/// <summary>What a successful run did.</summary>
/// <param name="ExecutedCells">Number of C# code cells run.</param>
/// <param name="SkippedCells">"cell N (kernel)" for code cells of other kernels, which the kit does not run.</param>
/// <param name="SkippedDirectives">Directives left out because the kit provides them (<c>#r "nuget: ..."</c>, <c>#!</c> magics, ...).</param>
/// <param name="Notebook">The executed notebook: the original JSON with outputs and execution counts.</param>
public sealed record NotebookRunResult(
    string NotebookPath,
    string? OutputPath,
    int ExecutedCells,
    IReadOnlyList<string> SkippedCells,
    IReadOnlyList<string> SkippedDirectives,
    JsonObject Notebook);
