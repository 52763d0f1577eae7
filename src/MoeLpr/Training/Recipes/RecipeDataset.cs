using MoeLpr.Data;

namespace MoeLpr.Training.Recipes;

/// <summary>A dataset of the recipe: its registry entry (the file's actual SHA-1) and where the kit reads it.</summary>
/// <param name="Source">The file the kit reads (absolute), to copy into the recipe's dataset folder.</param>
public sealed record RecipeDataset(string Name, DatasetEntry Entry, string Source);
