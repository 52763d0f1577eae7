namespace MoeLpr.Training.Recipes;

/// <summary>
/// What <see cref="LlamaFactoryRecipe"/> writes: the run that <see cref="Training"/> describes (stage 1 or 2, the
/// same options <c>moelpr train</c> takes; its <c>OutputDir</c> is the recipe folder), launched on
/// <see cref="NumGpus"/> GPUs.
/// </summary>
public sealed record RecipeOptions
{
    public required TrainingOptions Training { get; init; }

    /// <summary>GPUs the DeepSpeed launcher starts (<c>--num_gpus</c>); the script's NUM_GPUS overrides it.</summary>
    public int NumGpus { get; init; } = 1;

    /// <summary>The launcher's port (the authors' scripts use 9902); the script's MASTER_PORT overrides it.</summary>
    public int MasterPort { get; init; } = 9902;
}
