namespace MoeLpr.Training.Pretraining;

/// <summary>
/// Everything <see cref="Pretrainer"/> needs to train a small dense LLaMA from random weights: the tokenizer, the
/// (old-language) datasets, the architecture and the optimisation. The defaults are the kit's shipped base model
/// (<c>data/base-model</c>): 2.4 M parameters, sized so that pretraining runs in minutes on two CPU cores.
/// </summary>
public sealed record PretrainingOptions
{
    /// <summary>Folder with tokenizer.json (+ tokenizer_config.json); copied into the output.</summary>
    public required string TokenizerDir { get; init; }
    public required IReadOnlyList<string> Datasets { get; init; }
    public string DatasetInfo { get; init; } = "data/dataset_info.json";
    public required string OutputDir { get; init; }

    public int HiddenSize { get; init; } = 192;
    public int NumLayers { get; init; } = 4;
    public int NumAttentionHeads { get; init; } = 6;
    public int NumKeyValueHeads { get; init; } = 2;
    public int IntermediateSize { get; init; } = 512;
    public bool TieWordEmbeddings { get; init; } = true;
    /// <summary>Std of the normal initialisation of every linear and embedding weight (HF <c>initializer_range</c>).</summary>
    public double InitializerRange { get; init; } = 0.02;

    public int CutoffLen { get; init; } = 128;
    public double LearningRate { get; init; } = 2e-3;
    public int BatchSize { get; init; } = 16;
    public int GradientAccumulationSteps { get; init; } = 1;
    public int MaxSteps { get; init; } = 1500;
    public int WarmupSteps { get; init; } = 100;
    public int LoggingSteps { get; init; } = 25;
    /// <summary>Seeds the weight initialisation and the block order.</summary>
    public long Seed { get; init; } = 42;
    public string Device { get; init; } = "auto";
    public int? Threads { get; init; }
    public string? CacheDir { get; init; }
    /// <summary>The command line that reproduces this run, recorded in the model card.</summary>
    public string? CommandLine { get; init; }
}
