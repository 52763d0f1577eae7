namespace MoeLpr.Demo;

/// <summary>What <c>moelpr demo</c> runs: the shipped base model, the registry, where results go, the size and the seed.</summary>
public sealed record DemoOptions
{
    public string BaseModelDir { get; init; } = "data/base-model";
    public string DatasetInfo { get; init; } = "data/dataset_info.json";
    public string OutputDir { get; init; } = "demo-results";
    public DemoSize Size { get; init; } = DemoSize.Default;
    /// <summary>Seeds upcycling (router init), LoRA init and the block order of every run.</summary>
    public long Seed { get; init; } = 42;
    public string Device { get; init; } = "auto";
    public int? Threads { get; init; }
    /// <summary>Cache packed corpora here between runs; none when null.</summary>
    public string? CacheDir { get; init; }
    public int NumExperts { get; init; } = 4;
    public int TopK { get; init; } = 2;
}
