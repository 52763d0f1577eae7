using MoeLpr.Runs;

namespace MoeLpr.Training.Pretraining;

/// <summary>
/// Everything <see cref="Pretrainer"/> needs to train a small dense LLaMA from random weights: the tokenizer, the
/// (old-language) datasets, the architecture and the optimisation. The defaults give a 2.4 M-parameter model that
/// pretrains in minutes on two CPU cores; the shipped <c>data/base-model</c> is larger (its model card has the
/// command).
/// </summary>
public sealed record PretrainingOptions : DataOptions
{
    /// <summary>Pretraining packs short blocks by default: the tiny base model trains on 128-token blocks.</summary>
    public PretrainingOptions() => CutoffLen = 128;

    /// <summary>Folder with tokenizer.json (+ tokenizer_config.json); copied into the output.</summary>
    public required string TokenizerDir { get; init; }
    public required string OutputDir { get; init; }

    public int HiddenSize { get; init; } = 192;
    public int NumLayers { get; init; } = 4;
    public int NumAttentionHeads { get; init; } = 6;
    public int NumKeyValueHeads { get; init; } = 2;
    public int IntermediateSize { get; init; } = 512;
    public bool TieWordEmbeddings { get; init; } = true;
    /// <summary>
    /// Std of the normal initialisation of every linear and embedding weight (HF <c>initializer_range</c>).
    /// </summary>
    public double InitializerRange { get; init; } = 0.02;

    /// <summary>
    /// The trainer's settings; <see cref="TrainerOptions.MaxSteps"/> sets the run's length, and the seed also seeds the
    /// weight initialisation. The EOS id and the device are filled in by <see cref="Pretrainer"/>.
    /// </summary>
    public TrainerOptions Optimization { get; init; } = new()
    {
        LearningRate = 2e-3, BatchSize = 16, MaxSteps = 1500, WarmupSteps = 100, LoggingSteps = 25,
    };
    /// <summary>The command line that reproduces this run, recorded in the model card.</summary>
    public string? CommandLine { get; init; }
}
