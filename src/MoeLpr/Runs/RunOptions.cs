using MoeLpr.Data;
using MoeLpr.Devices;

namespace MoeLpr.Runs;

/// <summary>The registered datasets a run reads and how they are packed, as training packs them.</summary>
public abstract record DataOptions : DeviceOptions
{
    /// <summary>Dataset names from the registry.</summary>
    public required IReadOnlyList<string> Datasets { get; init; }

    /// <summary>The registry (<c>dataset_info.json</c>).</summary>
    public string DatasetInfo { get; init; } = DatasetRegistry.DefaultInfoPath;

    /// <summary>First documents taken from each dataset; all when null.</summary>
    public int? MaxSamples { get; init; }

    /// <summary>Tokens per packed block.</summary>
    public int CutoffLen { get; init; } = 512;

    /// <summary>Use dataset files whose SHA-1 differs from the registry's.</summary>
    public bool AllowSha1Mismatch { get; init; }

    /// <summary>Leave EOS targets out of the LM loss, as the reference (pad = eos) does.</summary>
    public bool MaskEosInLabels { get; init; } = true;

    /// <summary>Where packed corpora are cached between runs; no caching when null.</summary>
    public string? CacheDir { get; init; }
}

/// <summary>
/// A run over a model: the dense HF base model, optionally an adapter on it, its tokenizer and weight dtype.
/// </summary>
public abstract record ModelDataOptions : DataOptions
{
    /// <summary>Dense HF base model folder (config.json + safetensors).</summary>
    public required string ModelDir { get; init; }

    /// <summary>An MoE or LoRA adapter on the base model.</summary>
    public string? AdapterDir { get; init; }

    /// <summary>Folder with tokenizer.json / tokenizer.model; the model folder when null.</summary>
    public string? TokenizerDir { get; init; }

    /// <summary>Weight dtype: "float32", "bfloat16" or "float16".</summary>
    public string Dtype { get; init; } = "float32";
}
