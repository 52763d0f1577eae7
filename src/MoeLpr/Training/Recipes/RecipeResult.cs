namespace MoeLpr.Training.Recipes;

/// <summary>What <see cref="LlamaFactoryRecipe.Write"/> wrote.</summary>
/// <param name="Folder">The recipe folder (absolute).</param>
/// <param name="Files">The files written, relative to the folder.</param>
/// <param name="Warnings">Things to know before launching (also in the README), one line each.</param>
public sealed record RecipeResult(string Folder, IReadOnlyList<string> Files, IReadOnlyList<string> Warnings);
