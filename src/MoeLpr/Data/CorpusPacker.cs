using System.Security.Cryptography;
using System.Text;

namespace MoeLpr.Data;

/// <summary>
/// Tokenises and packs documents as the reference's <c>preprocess_pretrain_dataset</c>: each document without BOS,
/// EOS appended, concatenated per dataset in order, cut into <c>cutoff_len</c> blocks, remainder dropped; every token
/// keeps its document's language flag. Packing per dataset (not per 1,000-document map batch as in the reference)
/// means a block never mixes languages, and the only tokens lost are one remainder per dataset.
/// With a cache directory the result is stored under a key of everything that determines it, so a second run with
/// the same tokenizer files, data and settings reads it back instead of tokenising again.
/// </summary>
public static class CorpusPacker
{
    public static PackedCorpus Pack(IReadOnlyList<LoadedDataset> datasets, LoadedTokenizer tokenizer, int cutoffLen,
        string? cacheDir = null, bool requireLanguage = true)
    {
        if (cutoffLen < 2) throw new ArgumentOutOfRangeException(nameof(cutoffLen), "cutoff_len must be at least 2");
        if (datasets.Count == 0) throw new ArgumentException("no datasets to pack", nameof(datasets));
        if (requireLanguage && datasets.FirstOrDefault(d => d.IsOldLanguage is null) is { } unlabelled)
            throw new InvalidDataException($"{unlabelled.FilePath}: dataset '{unlabelled.Name}' has no \"language\" " +
                                           $"(\"old\" or \"new\"), which language masks need");

        string? cachePath = cacheDir is null ? null
            : PackingCache.PathFor(cacheDir, CacheKey(datasets, tokenizer, cutoffLen));
        if (cachePath is not null && PackingCache.TryRead(cachePath) is { } cached) return cached;

        var blocks = new List<int[]>();
        var masks = new List<bool[]>();
        var stats = new List<PackedDatasetStats>();
        foreach (var dataset in datasets)
        {
            bool old = dataset.IsOldLanguage ?? false;
            var stream = new List<int>();
            foreach (string document in dataset.Documents)
            {
                stream.AddRange(tokenizer.Encode(document));
                stream.Add(tokenizer.EosId);
            }
            int count = stream.Count / cutoffLen;
            for (int b = 0; b < count; b++)
            {
                blocks.Add(stream.GetRange(b * cutoffLen, cutoffLen).ToArray());
                masks.Add(Enumerable.Repeat(old, cutoffLen).ToArray());
            }
            stats.Add(new PackedDatasetStats(dataset.Name, old, dataset.Documents.Count, stream.Count, count,
                stream.Count - count * cutoffLen));
        }
        var corpus = new PackedCorpus(cutoffLen, blocks, masks, stats, fromCache: false);
        if (cachePath is not null) PackingCache.Write(cachePath, corpus);
        return corpus;
    }

    /// <summary>SHA-256 over the tokenizer files' bytes, the EOS id, cutoff_len, and each dataset's name, file SHA-1,
    /// language and the documents actually taken (so max_samples and the text column are covered too).</summary>
    public static string CacheKey(IReadOnlyList<LoadedDataset> datasets, LoadedTokenizer tokenizer, int cutoffLen)
    {
        var text = new StringBuilder("moelpr-packing-v1\n");
        foreach (string file in tokenizer.SourceFiles) text.Append($"tokenizer {FileHashes.Sha256(file)}\n");
        text.Append($"eos {tokenizer.EosId}\ncutoff_len {cutoffLen}\n");
        foreach (var d in datasets)
            text.Append(
                $"dataset {d.Name} {d.FileSha1} {d.IsOldLanguage} {d.Documents.Count} {DocumentsHash(d.Documents)}\n");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..32];
    }

    static string DocumentsHash(IReadOnlyList<string> documents)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string document in documents)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(document));
            hash.AppendData([0]);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
