using MoeLpr.Data;

namespace MoeLpr.Tests.Data;

public class HelpCorpusBuilderTests
{
    static readonly string[] CorpusDirs = ["en-US", "el", "zh-CN"];

    /// <summary>40 pages in English, Greek, Chinese and Japanese. Page 7 lacks its Greek translation, page 8 is a stub
    /// everywhere, page 9's Greek is a copy of the English text, page 10's Japanese is a copy of the English
    /// text.</summary>
    static string MakeHelpTree()
    {
        string root = Path.Combine(DataTestFiles.NewTempDir(), "help");
        for (int page = 0; page < 40; page++)
            foreach (string dir in CorpusDirs.Append("ja"))
            {
                if (page == 7 && dir == "el") continue;
                bool copiesEnglish = (page == 9 && dir == "el") || (page == 10 && dir == "ja");
                string body = page == 8 ? "" : $"<p>Page {page} in {(copiesEnglish ? "en-US" : dir)}: " +
                                               $"enough words to count as a real help page, not a stub.</p>";
                HelpPageFixtures.WritePage(root, dir, $"text/shared/{page:D2}/page.html",
                    copiesEnglish ? "T" : $"T{page}-{dir}", body);
            }
        return root;
    }

    [Fact]
    public void WritesAlignedSplitsRegistryExamplesAndNotice()
    {
        string root = MakeHelpTree();
        string output = Path.Combine(Path.GetDirectoryName(root)!, "out");
        var summary = HelpCorpusBuilder.Build(new HelpCorpusOptions(root, output, MaxTrain: 20, ExampleDocuments: 50));

        Assert.Equal(37, summary.AlignedPages); // pages 7 (no Greek), 8 (stub) and 9 (Greek untranslated) left out
        var registry = DatasetRegistry.Open(Path.Combine(output, "dataset_info.json"));
        foreach (string split in CorpusSplit.All)
        {
            var ids = CorpusDirs.Select(dir => IdsIn(Path.Combine(output, "corpus", $"{Code(dir)}.{split}.jsonl")))
                .ToList();
            Assert.All(ids, list => Assert.Equal(ids[0], list));           // same pages, same order in every language
            Assert.All(ids[0], id => Assert.Equal(split, CorpusSplit.Of(id)));
            Assert.DoesNotContain("text/shared/07/page.html", ids[0]);
            Assert.DoesNotContain("text/shared/09/page.html", ids[0]);
            Assert.False(registry.Load($"el_{split}").IsOldLanguage);
        }
        Assert.Equal(20, IdsIn(Path.Combine(output, "corpus", "en.train.jsonl")).Count);
        Assert.True(registry.Load("en_train").IsOldLanguage);
        Assert.True(registry.Load("zh_valid").IsOldLanguage);
        Assert.Contains("in el:", registry.Load("el_train").Documents[0]);
        Assert.DoesNotContain("ja_train", registry.Entries.Keys); // Japanese is only in the toy example

        // The toy example: train-split pages translated in both Japanese and Chinese (page 10 is not), up to 50.
        var exampleIds = IdsIn(Path.Combine(output, "moelpr_examples", "ja.jsonl"));
        Assert.Equal(exampleIds, IdsIn(Path.Combine(output, "moelpr_examples", "zh.jsonl")));
        // Page 7 (no Greek) is in; 8 (stub) and 10 (Japanese untranslated) are out.
        var expected = Enumerable.Range(0, 40)
            .Where(p => p is not 8 and not 10).Select(p => $"text/shared/{p:D2}/page.html")
            .Where(id => CorpusSplit.Of(id) == CorpusSplit.Train).OrderBy(CorpusSplit.OrderKey, StringComparer.Ordinal);
        Assert.Equal(expected, exampleIds);
        Assert.False(registry.Load("moelpr_ja").IsOldLanguage);
        Assert.Contains("in ja:", registry.Load("moelpr_ja").Documents[0]);
        Assert.True(registry.Load("moelpr_zh").IsOldLanguage);
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
        DatasetInfoWriter.Register(Path.Combine(output, "dataset_info.json"), "mine",
            Path.Combine(output, "mine.jsonl"), "new");
        HelpCorpusBuilder.Build(new HelpCorpusOptions(root, output, ExampleDocuments: 0));
        var registry = DatasetRegistry.Open(Path.Combine(output, "dataset_info.json"));
        Assert.Equal(["kept"], registry.Load("mine").Documents);
        Assert.DoesNotContain("moelpr_ja", registry.Entries.Keys);
        Assert.Equal(3 * 3 + 1, registry.Entries.Count);
    }

    [Fact]
    public void FolderWithoutHelpLanguagesIsAnError()
    {
        string root = DataTestFiles.NewTempDir();
        var error = Assert.Throws<InvalidDataException>(
            () => HelpCorpusBuilder.Build(new HelpCorpusOptions(root, Path.Combine(root, "out"))));
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
            Assert.All(IdsIn(Path.Combine(DataTestFiles.RepoRoot, "data", "corpus", $"hu.{split}.jsonl")),
                id => Assert.Equal(split, CorpusSplit.Of(id)));
    }

    static string Code(string dir) => HelpLanguage.All.Single(l => l.HelpDirectory == dir).Code;

    static List<string> IdsIn(string path) =>
        File.ReadLines(path).Select(
            line => System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("id").GetString()!).ToList();
}
