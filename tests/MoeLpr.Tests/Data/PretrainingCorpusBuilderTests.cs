using System.Text.Json;
using MoeLpr.Data;

namespace MoeLpr.Tests.Data;

public class PretrainingCorpusBuilderTests
{
    static readonly (string Code, string HelpDir)[] Old = [("en", "en-US"), ("es", "es"), ("zh", "zh-CN")];

    /// <summary>60 help pages in en, es, zh (page 3's Spanish is a copy of the English) and one page per language of
    /// every Debian manual, plus a manual page whose text repeats a held-out help page word for word.</summary>
    static (string HelpRoot, string DocsRoot) MakeTrees(int heldOutPage)
    {
        string dir = DataTestFiles.NewTempDir();
        string helpRoot = Path.Combine(dir, "help"), docsRoot = Path.Combine(dir, "docs");
        for (int page = 0; page < 60; page++)
            foreach (var (code, helpDir) in Old)
            {
                string shown = page == 3 && code == "es" ? "en" : code;
                HelpPageFixtures.WritePage(helpRoot, helpDir, $"text/shared/{page:D2}/page.html",
                    page == 3 && code == "es" ? "T3-en" : $"T{page}-{code}",
                    $"<p>Help page {page} in {shown}: enough words to count as a real help page, not a stub.</p>");
            }
        foreach (var source in DocumentationSource.All)
            foreach (var (code, (folder, suffix)) in source.Languages)
            {
                string path = Path.Combine(docsRoot, folder, "chapter" + suffix);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, $"""
                    <html><head><title>t</title></head><body><div class="navheader"><a href="x">Next</a></div>
                    <h1>{source.Name} in {code}</h1><p>A manual chapter in {code} with enough words.</p><pre>$ code sample</pre>
                    <div class="navfooter"><a href="y">Prev</a></div></body></html>
                    """);
                File.WriteAllText(Path.Combine(docsRoot, folder, "copy" + suffix),
                    $"<html><body><h1>T{heldOutPage}-{code}</h1><p>Help page {heldOutPage} in {code}: " +
                    $"enough words to count as a real help page, not a stub.</p></body></html>");
            }
        return (helpRoot, docsRoot);
    }

    [Fact]
    public void KeepsTrainPagesOfEveryOldLanguageAndSourceAndNoHeldOutText()
    {
        int heldOut = Enumerable.Range(0, 60)
            .First(p => CorpusSplit.Of($"text/shared/{p:D2}/page.html") != CorpusSplit.Train);
        var (helpRoot, docsRoot) = MakeTrees(heldOut);
        string output = Path.Combine(Path.GetDirectoryName(helpRoot)!, "out");
        var counts = PretrainingCorpusBuilder.Build(helpRoot, docsRoot, output);

        var registry = DatasetRegistry.Open(Path.Combine(output, "dataset_info.json"));
        foreach (var (code, _) in Old)
        {
            var train = Documents(registry.PathOf($"{code}_pretrain"));
            Assert.True(registry.Load($"{code}_pretrain").IsOldLanguage);
            Assert.All(train, d => Assert.Equal(CorpusSplit.Train, CorpusSplit.Of(d.Id)));
            Assert.All(Documents(registry.PathOf($"{code}_pretrain_valid")),
                d => Assert.Equal(CorpusSplit.Valid, CorpusSplit.Of(d.Id)));
            var helpTrain = Enumerable.Range(0, 60)
                .Select(p => $"text/shared/{p:D2}/page.html").Where(id => CorpusSplit.Of(id) == CorpusSplit.Train)
                .Where(id => !(code == "es" && id == "text/shared/03/page.html")).ToHashSet();
            Assert.Equal(helpTrain,
                train.Where(d => d.Id.StartsWith("text/", StringComparison.Ordinal)).Select(d => d.Id).ToHashSet());
            // The manuals' pages, by their language-free ids, in the split of that id; the code sample and navigation
            // dropped.
            foreach (var source in DocumentationSource.All)
            {
                var chapter = train.SingleOrDefault(d => d.Id == $"{source.Name}/chapter");
                Assert.Equal(CorpusSplit.Of($"{source.Name}/chapter") == CorpusSplit.Train, chapter.Id is not null);
                if (chapter.Id is not null)
                    Assert.Equal(
                        $"{source.Name} in {code}\nA manual chapter in {code} with enough words.", chapter.Text);
            }
            // A manual page repeating a held-out help page's text is never pretrained on.
            Assert.DoesNotContain(train, d => d.Text.Contains($"Help page {heldOut} in", StringComparison.Ordinal));
            Assert.Equal(train.OrderBy(d => CorpusSplit.OrderKey(d.Id), StringComparer.Ordinal).Select(d => d.Id),
                train.Select(d => d.Id));
        }
        Assert.Contains(counts,
            c => c.Source == "libreoffice-help" && c.Language == "zh" && c.Split == CorpusSplit.Train && c.Pages > 40);
    }

    static List<(string Id, string Text)> Documents(string path) =>
        File.ReadLines(path).Select(line => JsonDocument.Parse(line).RootElement)
            .Select(e => (e.GetProperty("id").GetString()!, e.GetProperty("text").GetString()!)).ToList();
}
