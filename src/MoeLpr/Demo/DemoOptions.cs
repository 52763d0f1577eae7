using MoeLpr.Data;
using MoeLpr.Devices;

namespace MoeLpr.Demo;

/// <summary>
/// What <c>moelpr demo</c> runs: the shipped base model, the registry, where results go, the size and the seed.
/// </summary>
public sealed record DemoOptions : DeviceOptions
{
    public string BaseModelDir { get; init; } = "data/base-model";
    public string DatasetInfo { get; init; } = DatasetRegistry.DefaultInfoPath;
    /// <summary>The multiple-choice task scored for every model; skipped when null.</summary>
    public string? TaskFile { get; init; } = "data/tasks/next_sentence.jsonl";
    public string OutputDir { get; init; } = "demo-results";
    public DemoSize Size { get; init; } = DemoSize.Default;
    /// <summary>Seeds upcycling (router init), LoRA init and the block order of every run.</summary>
    public long Seed { get; init; } = 42;
    /// <summary>Cache packed corpora here between runs; none when null.</summary>
    public string? CacheDir { get; init; }
    public int NumExperts { get; init; } = 4;
    public int TopK { get; init; } = 2;
}
