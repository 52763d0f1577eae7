namespace MoeLpr.Notebooks;

/// <summary>How to run a notebook.</summary>
/// <param name="OutputPath">Where to write the executed notebook (with outputs); null writes nothing.</param>
/// <param name="Parameters">Values the notebook reads with <c>Parameters.Get(name, default)</c>.</param>
/// <param name="AdditionalReferences">Assemblies to reference besides MoeLpr and its dependencies.</param>
public sealed record NotebookRunOptions(
    string? OutputPath = null,
    NotebookParameters? Parameters = null,
    IReadOnlyList<System.Reflection.Assembly>? AdditionalReferences = null);
