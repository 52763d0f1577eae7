using MoeLpr.Data;
using TorchSharp;

namespace MoeLpr.Tests.Data;

public class CorpusPackerTests
{
    static readonly LoadedTokenizer Tokenizer = TokenizerLoader.Load(SmallTokenizer.Directory);

    static LoadedDataset Dataset(string name, bool? old, params string[] documents) =>
        new(name, $"/virtual/{name}.jsonl", new string('0', 40), old, documents);

    [Fact]
    public void PacksEachDatasetAsTheReferenceWithoutBosWithEosAndDroppedRemainder()
    {
        var en = Dataset("en", true, "Choose Format - Cells.", "Click the Numbers tab, then OK.", "Done.");
        var el = Dataset("el", false, "Η υπηρεσία Μενού.",
            "Γεια σου κόσμε, ξανά και ξανά.");
        var packed = CorpusPacker.Pack([en, el], Tokenizer, cutoffLen: 8);

        foreach (var (dataset, stats) in new[] { en, el }.Zip(packed.Datasets))
        {
            var stream = dataset.Documents.SelectMany(d => Tokenizer.Encode(d).Append(Tokenizer.EosId)).ToList();
            Assert.Equal(stream.Count, stats.Tokens);
            Assert.Equal(stream.Count / 8, stats.Blocks);
            Assert.Equal(stream.Count % 8, stats.DroppedTokens);
            Assert.Equal(dataset.Documents.Count, stats.Documents);
        }
        var expected = new[] { en, el }.SelectMany(d =>
        {
            var stream = d.Documents.SelectMany(doc => Tokenizer.Encode(doc).Append(Tokenizer.EosId)).ToList();
            return stream.Chunk(8)
                .Where(block => block.Length == 8).Select(block => (block, old: d.IsOldLanguage!.Value));
        }).ToList();
        Assert.Equal(expected.Select(e => e.block), packed.Blocks);
        Assert.Equal(expected.Select(e => Enumerable.Repeat(e.old, 8).ToArray()), packed.OldLanguage);
        Assert.Equal(packed.Datasets[0].Blocks * 8L, packed.OldLanguageTokens);
        Assert.False(packed.FromCache);
    }

    [Fact]
    public void SecondRunReadsTheCacheAndYieldsIdenticalBlocks()
    {
        string cache = DataTestFiles.NewTempDir();
        var registry = DatasetRegistry.Open(DataTestFiles.DatasetInfo);
        var datasets = registry.LoadMany(["en_valid", "el_valid"], maxSamples: 10, requireLanguage: true);
        var first = CorpusPacker.Pack(datasets, Tokenizer, cutoffLen: 64, cacheDir: cache);
        var second = CorpusPacker.Pack(datasets, Tokenizer, cutoffLen: 64, cacheDir: cache);

        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(first.Blocks, second.Blocks);
        Assert.Equal(first.OldLanguage, second.OldLanguage);
        Assert.Equal(first.Datasets, second.Datasets);
        Assert.True(first.Datasets[0].IsOldLanguage && !first.Datasets[1].IsOldLanguage);

        // Any change to what determines the blocks is a different cache entry.
        Assert.False(CorpusPacker.Pack(datasets, Tokenizer, cutoffLen: 32, cacheDir: cache).FromCache);
        var fewer = registry.LoadMany(["en_valid", "el_valid"], maxSamples: 9, requireLanguage: true);
        Assert.False(CorpusPacker.Pack(fewer, Tokenizer, cutoffLen: 64, cacheDir: cache).FromCache);
        Assert.Equal(3, Directory.GetFiles(cache, "packed-*.bin").Length);
        Assert.Empty(Directory.GetFiles(cache, "*.tmp"));
    }

    [Fact]
    public void DatasetWithoutLanguageIsAnErrorWhenMasksAreNeeded()
    {
        var unlabelled = Dataset("plain", null, "text");
        var error = Assert.Throws<InvalidDataException>(() => CorpusPacker.Pack([unlabelled], Tokenizer, cutoffLen: 4));
        Assert.Equal("/virtual/plain.jsonl: dataset 'plain' has no \"language\" (\"old\" or \"new\"), " +
                     "which language masks need", error.Message);
        Assert.All(CorpusPacker.Pack([unlabelled], Tokenizer, cutoffLen: 2, requireLanguage: false).OldLanguage,
            mask => Assert.DoesNotContain(true, mask));
    }

    [Fact]
    public void MakeBatchGivesInt64IdsAndBoolMask()
    {
        var packed = CorpusPacker.Pack([Dataset("en", true, "Choose Format - Cells, then the Numbers tab."),
            Dataset("el", false, "Η υπηρεσία Μενού μπορεί να χρησιμοποιηθεί.")],
            Tokenizer, cutoffLen: 4);
        int last = packed.Count - 1;
        var (ids, mask) = packed.MakeBatch([last, 0]);
        using (ids)
        using (mask)
        {
            Assert.Equal(new long[] { 2, 4 }, ids.shape);
            Assert.Equal(torch.ScalarType.Int64, ids.dtype);
            Assert.Equal(torch.ScalarType.Bool, mask.dtype);
            Assert.Equal(packed.Blocks[last].Concat(packed.Blocks[0]).Select(i => (long)i), ids.data<long>().ToArray());
            Assert.Equal(new[] { false, false, false, false, true, true, true, true }, mask.data<bool>().ToArray());
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => packed.MakeBatch([packed.Count]));
    }
}
