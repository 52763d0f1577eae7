using MoeLpr.Training.Losses;

namespace MoeLpr.Training;

/// <summary>
/// Everything one <see cref="TrainingRun"/> needs, with the reference scripts' defaults. The CLI's
/// <c>moelpr train</c> fills it from its options; notebooks and the demo build it directly.
/// </summary>
public sealed record TrainingOptions
{
    public TrainingStage Stage { get; init; } = TrainingStage.Stage1;
    /// <summary>Dense HF base model folder (config.json + safetensors).</summary>
    public required string ModelDir { get; init; }
    /// <summary>MoE adapter to continue: required for stage 2 (the stage-1 output), optional for stage 1.</summary>
    public string? AdapterDir { get; init; }
    /// <summary>Folder with tokenizer.json / tokenizer.model; the model folder when null.</summary>
    public string? TokenizerDir { get; init; }
    public required IReadOnlyList<string> Datasets { get; init; }
    public string DatasetInfo { get; init; } = "data/dataset_info.json";
    public required string OutputDir { get; init; }

    public int NumExperts { get; init; } = 4;
    public int TopK { get; init; } = 2;
    public double AuxLossCoef { get; init; } = Stage1Policy.ReferenceAuxLossCoef;
    public double LprLossCoef { get; init; } = Stage2Policy.ReferenceLprLossCoef;
    public LprLossForm LprLossForm { get; init; } = LprLossForm.Nll;

    /// <summary>First documents taken from each dataset; all when null.</summary>
    public int? MaxSamples { get; init; }
    /// <summary>First documents taken from each old-language dataset (stage 2's replay), in place of
    /// <see cref="MaxSamples"/> for those; <see cref="MaxSamples"/> when null.</summary>
    public int? ReplayMaxSamples { get; init; }
    public int CutoffLen { get; init; } = 512;
    /// <summary>
    /// The optimiser settings. Their <see cref="TrainerOptions.Seed"/> is the run's one seed: it also seeds upcycling's
    /// router initialisation and libtorch's generator. Their masked label id and device are replaced by
    /// <see cref="ToTrainerOptions"/>, from <see cref="MaskEosInLabels"/> and <see cref="Device"/>, because the EOS id
    /// and the resolved device are known only once the run has loaded the tokenizer and picked the device.
    /// </summary>
    public TrainerOptions Optimization { get; init; } = new();
    /// <summary>Weight dtype: "float32" or "bfloat16" (also "float16").</summary>
    public string Dtype { get; init; } = "float32";
    public string Device { get; init; } = "auto";
    public int? Threads { get; init; }
    public bool Resume { get; init; }
    public bool AllowSha1Mismatch { get; init; }
    /// <summary>Leave EOS targets out of the LM loss, as the reference (pad = eos) does.</summary>
    public bool MaskEosInLabels { get; init; } = true;
    /// <summary>Where packed corpora are cached between runs; no caching when null.</summary>
    public string? CacheDir { get; init; }

    public TrainerOptions ToTrainerOptions(int eosTokenId, TorchSharp.torch.Device device) =>
        Optimization with { MaskedLabelTokenId = MaskEosInLabels ? eosTokenId : null, Device = device };
}
