namespace MoeLpr.Training.Recipes;

/// <summary>One flag of the LLaMA-Factory command line and the kit setting it comes from.</summary>
/// <param name="Flag">The flag, e.g. <c>--learning_rate</c>.</param>
/// <param name="Value">Its value as the script writes it (shell variables quoted), or null for a switch.</param>
/// <param name="Source">The kit option and value it reproduces (<c>--lr 5E-05</c>), or why the flag is there.</param>
public sealed record RecipeFlag(string Flag, string? Value, string Source);
