namespace MoeLpr.Evaluation;

/// <summary>What <see cref="EvaluationRun"/> scores: a base model (plus an optional MoE adapter) on registered datasets.</summary>
public sealed record EvaluationOptions
{
    public required string ModelDir { get; init; }
    public string? AdapterDir { get; init; }
    public string? TokenizerDir { get; init; }
    public required IReadOnlyList<string> Datasets { get; init; }
    public string DatasetInfo { get; init; } = "data/dataset_info.json";
    public int? MaxSamples { get; init; }
    public int CutoffLen { get; init; } = 512;
    public int BatchSize { get; init; } = 4;
    public string Dtype { get; init; } = "float32";
    public string Device { get; init; } = "auto";
    public int? Threads { get; init; }
    public bool AllowSha1Mismatch { get; init; }
    /// <summary>Leave EOS targets out, as training does.</summary>
    public bool MaskEosInLabels { get; init; } = true;
    public string? CacheDir { get; init; }
}
