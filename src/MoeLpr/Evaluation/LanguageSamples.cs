using MoeLpr.Data;
using TorchSharp;

namespace MoeLpr.Evaluation;

/// <summary>
/// Token batches for routing statistics, one per registered dataset: the first <c>maxSamples</c> documents packed
/// into <c>cutoffLen</c> blocks exactly as training packs them, labelled with the dataset name or
/// <c>labelOf(name)</c> (e.g. <c>"en_valid"</c> → <c>"en"</c> for charts).
/// </summary>
public static class LanguageSamples
{
    public static IReadOnlyList<LabelledTokens> Load(string datasetInfo, IReadOnlyList<string> datasets,
                                                     LoadedTokenizer tokenizer, int cutoffLen, int? maxSamples = null,
                                                     string? cacheDir = null, Func<string, string>? labelOf = null)
    {
        var registry = DatasetRegistry.Open(datasetInfo);
        var samples = new List<LabelledTokens>();
        foreach (var dataset in registry.LoadMany(datasets, maxSamples))
        {
            var corpus = CorpusPacker.Pack([dataset], tokenizer, cutoffLen, cacheDir, requireLanguage: false);
            if (corpus.Count == 0)
                throw new InvalidDataException($"{dataset.FilePath}: the first {maxSamples} documents of " +
                                               $"'{dataset.Name}' hold fewer than cutoff_len = {cutoffLen} tokens");
            var (ids, _) = corpus.MakeBatch(Enumerable.Range(0, corpus.Count).ToArray());
            samples.Add(new LabelledTokens(labelOf?.Invoke(dataset.Name) ?? dataset.Name, ids));
        }
        return samples;
    }
}
