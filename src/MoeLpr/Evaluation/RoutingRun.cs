using MoeLpr.Checkpoints;
using MoeLpr.Data;
using MoeLpr.Runs;
using TorchSharp;

namespace MoeLpr.Evaluation;

/// <summary>
/// What <see cref="RoutingRun"/> measures: a base model with its MoE adapter, or a merged Mixtral folder, on registered
/// datasets.
/// </summary>
public sealed record RoutingOptions : ModelDataOptions
{
    /// <summary>Blocks per forward pass.</summary>
    public int BatchSize { get; init; } = EvaluationDefaults.BatchSize;
}

/// <summary>
/// Routing statistics per registered dataset (<c>moelpr routes</c>): each dataset is packed on its own, as training
/// packs it, and its blocks are counted under the dataset's name.
/// </summary>
public static class RoutingRun
{
    public static RoutingStatistics Run(RoutingOptions options)
    {
        if (options.BatchSize < 1)
            throw new ArgumentException($"batch size must be at least 1 (got {options.BatchSize})");
        string tokenizerDir = TokenizerLoader.FolderFor(options.TokenizerDir, options.ModelDir);
        var setup = RunSetup.Start(options, tokenizerDir);
        var packed = setup.PackEach(options);
        var batches = packed
            .SelectMany(d => Enumerable.Range(0, d.Corpus.Count).Chunk(options.BatchSize)
                .Select(blocks => new LabelledTokens(d.Dataset.Name, d.Corpus.MakeBatch(blocks).InputIds)));
        var dtype = TorchDtypeName.Parse(options.Dtype, "--dtype");
        var loaded = ModelWithAdapter.Load(options.ModelDir, options.AdapterDir, dtype);
        using (var model = loaded.Model)
        {
            if (loaded.Kind is not (AdapterKind.Moe or AdapterKind.Mixtral))
                throw new ArgumentException(loaded.Kind == AdapterKind.Lora
                    ? $"{options.AdapterDir}: a LoRA adapter has no router; routing statistics need an MoE adapter " +
                      "(peft_type MOE) or a Mixtral folder"
                    : $"{options.ModelDir}: a dense model has no router; routing statistics need an MoE adapter " +
                      "(--adapter) or a Mixtral folder");
            model.Config.RequireTokenId(packed.Max(d => d.Corpus.MaxTokenId), tokenizerDir);
            model.to(setup.Device);
            options.ChooseKernels(model);
            return RoutingStatistics.Collect(model, batches);
        }
    }
}
