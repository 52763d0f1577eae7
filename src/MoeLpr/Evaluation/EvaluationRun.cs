using MoeLpr.Checkpoints;
using MoeLpr.Data;
using MoeLpr.Devices;
using MoeLpr.Training;
using TorchSharp;

namespace MoeLpr.Evaluation;

/// <summary>Loads model, adapter, tokenizer and datasets (each packed on its own) and computes their perplexity.</summary>
public static class EvaluationRun
{
    public static PerplexityReport Run(EvaluationOptions options)
    {
        if (options.Datasets.Count == 0) throw new ArgumentException("no dataset given (--dataset a,b,c)");
        if (options.Threads is int threads) DeviceSelector.SetThreads(threads);
        var device = DeviceSelector.Resolve(options.Device);
        var dtype = TorchDtypeName.Parse(options.Dtype, "--dtype");
        var tokenizer = TokenizerLoader.Load(options.TokenizerDir ?? options.ModelDir);
        var registry = DatasetRegistry.Open(options.DatasetInfo);
        var sets = registry.LoadMany(options.Datasets, options.MaxSamples, requireLanguage: false, options.AllowSha1Mismatch)
            .Select(d => new EvaluationSet(d.Name, d.IsOldLanguage,
                                           CorpusPacker.Pack([d], tokenizer, options.CutoffLen, options.CacheDir, requireLanguage: false)))
            .ToList();
        foreach (var set in sets.Where(s => s.Corpus.Count == 0))
            throw new InvalidDataException($"{registry.PathOf(set.Name)}: dataset '{set.Name}' has fewer than cutoff_len = {options.CutoffLen} tokens, nothing to score");

        var (model, _) = ModelWithAdapter.Load(options.ModelDir, options.AdapterDir, dtype);
        using (model)
        {
            model.to(device);
            return PerplexityEvaluator.Evaluate(model, sets, options.BatchSize, options.MaskEosInLabels ? tokenizer.EosId : null, device);
        }
    }
}
