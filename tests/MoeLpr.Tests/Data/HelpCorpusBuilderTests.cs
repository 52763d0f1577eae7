using MoeLpr.Data;

namespace MoeLpr.Tests.Data;

public class HelpCorpusBuilderTests
{
    static readonly string[] LanguageDirs = ["en-US", "el", "zh-CN", "ja"];

    /// <summary>40 pages in four languages; page 7 lacks its Greek translation and page 8 is a stub everywhere.</summary>
    static string MakeHelpTree()
    {
        string root = Path.Combine(DataTestFiles.NewTempDir(), "help");
        for (int page = 0; page < 40; page++)
            foreach (string dir in LanguageDirs)
            {
                if (page == 7 && dir == "el") continue;
                string body = page == 8 ? "" : $"<p>Page {page} in {dir}: enough words to count as a real help page, not a stub.</p>";
                HelpPageFixtures.WritePage(root, dir, $"text/shared/{page:D2}/page.html", $"T{page}", body);
            }
        return root;
    }

    [Fact]
    public void WritesAlignedSplitsRegistryExamplesAndNotice()
    {
        string root = MakeHelpTree();
        string output = Path.Combine(Path.GetDirectoryName(root)!, "out");
        var summary = HelpCorpusBuilder.Build(new HelpCorpusOptions(root, output, MaxTrain: 20, ExampleDocuments: 5));

        Assert.Equal(38, summary.AlignedPages); // page 7 (no Greek) and page 8 (stub) left out
        var registry = DatasetRegistry.Open(Path.Combine(output, "dataset_info.json"));
        foreach (string split in CorpusSplit.All)
        {
            var ids = LanguageDirs.Select(dir => IdsIn(Path.Combine(output, "corpus", $"{Code(dir)}.{split}.jsonl"))).ToList();
            Assert.All(ids, list => Assert.Equal(ids[0], list));           // same pages, same order in every language
            Assert.All(ids[0], id => Assert.Equal(split, CorpusSplit.Of(id)));
            Assert.DoesNotContain("text/shared/07/page.html", ids[0]);
            Assert.False(registry.Load($"el_{split}").IsOldLanguage);
        }
        Assert.Equal(20, IdsIn(Path.Combine(output, "corpus", "en.train.jsonl")).Count);
        Assert.True(registry.Load("en_train").IsOldLanguage);
        Assert.True(registry.Load("zh_valid").IsOldLanguage);
        Assert.False(registry.Load("ja_test").IsOldLanguage);
        Assert.StartsWith("T", registry.Load("el_train").Documents[0]);
        Assert.Contains("in el:", registry.Load("el_train").Documents[0]);

        Assert.Equal(5, registry.Load("moelpr_ja").Documents.Count);
        Assert.Equal(IdsIn(Path.Combine(output, "moelpr_examples", "ja.jsonl")), IdsIn(Path.Combine(output, "corpus", "ja.train.jsonl")).Take(5));
        Assert.Contains("in zh-CN:", registry.Load("moelpr_zh").Documents[0]);
        Assert.Contains("MPL-2.0", File.ReadAllText(Path.Combine(output, "corpus", "LICENSE-NOTICE.md")));
    }

    [Fact]
    public void KeepsOtherRegistryEntries()
    {
        string root = MakeHelpTree();
        string output = Path.Combine(Path.GetDirectoryName(root)!, "out");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "mine.jsonl"), "{\"text\": \"kept\"}\n");
        DatasetInfoWriter.Register(Path.Combine(output, "dataset_info.json"), "mine", Path.Combine(output, "mine.jsonl"), "new");
        HelpCorpusBuilder.Build(new HelpCorpusOptions(root, output, ExampleDocuments: 0));
        var registry = DatasetRegistry.Open(Path.Combine(output, "dataset_info.json"));
        Assert.Equal(["kept"], registry.Load("mine").Documents);
        Assert.DoesNotContain("moelpr_ja", registry.Entries.Keys);
        Assert.Equal(4 * 3 + 1, registry.Entries.Count);
    }

    [Fact]
    public void FolderWithoutHelpLanguagesIsAnError()
    {
        string root = DataTestFiles.NewTempDir();
        var error = Assert.Throws<InvalidDataException>(() => HelpCorpusBuilder.Build(new HelpCorpusOptions(root, Path.Combine(root, "out"))));
        Assert.StartsWith($"{root}: no help language folders", error.Message);
    }

    [Fact]
    public void SplitIsRoughly90_5_5AndAgreesWithTheShippedSample()
    {
        var ids = Enumerable.Range(0, 4000).Select(i => $"text/page{i}.html").ToList();
        var counts = ids.GroupBy(CorpusSplit.Of).ToDictionary(g => g.Key, g => g.Count());
        Assert.InRange(counts[CorpusSplit.Train], 3500, 3700);
        Assert.InRange(counts[CorpusSplit.Valid], 140, 260);
        Assert.InRange(counts[CorpusSplit.Test], 140, 260);
        // The shipped sample was split by the same function: it must still agree (no machine- or run-dependence).
        foreach (string split in CorpusSplit.All)
            Assert.All(IdsIn(Path.Combine(DataTestFiles.RepoRoot, "data", "corpus", $"hu.{split}.jsonl")), id => Assert.Equal(split, CorpusSplit.Of(id)));
    }

    static string Code(string dir) => HelpLanguage.All.Single(l => l.HelpDirectory == dir).Code;

    static List<string> IdsIn(string path) =>
        File.ReadLines(path).Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("id").GetString()!).ToList();
}
