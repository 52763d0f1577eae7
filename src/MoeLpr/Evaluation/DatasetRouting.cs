using MoeLpr.Data;
using MoeLpr.Model;

namespace MoeLpr.Evaluation;

/// <summary>
/// Routing statistics per registered dataset: each dataset is tokenised and packed on its own (as training packs it:
/// no BOS, EOS after every document, <c>cutoff_len</c> blocks) and its blocks are labelled with the dataset name.
/// </summary>
public static class DatasetRouting
{
    public static RoutingStatistics Collect(LlamaForCausalLM model, LoadedTokenizer tokenizer, IReadOnlyList<LoadedDataset> datasets,
                                            int cutoffLen, int batchSize = 8)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        var batches = new List<LabelledTokens>();
        foreach (var dataset in datasets)
        {
            var packed = CorpusPacker.Pack([dataset], tokenizer, cutoffLen, requireLanguage: false);
            if (packed.Count == 0)
                throw new InvalidDataException($"{dataset.FilePath}: dataset '{dataset.Name}' has fewer than cutoff_len = {cutoffLen} tokens");
            foreach (var chunk in Enumerable.Range(0, packed.Count).Chunk(batchSize))
                batches.Add(new LabelledTokens(dataset.Name, packed.MakeBatch(chunk).InputIds));
        }
        return RoutingStatistics.Collect(model, batches);
    }
}
