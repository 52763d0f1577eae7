using MoeLpr.Data;
using MoeLpr.Evaluation;
using MoeLpr.Tests.Data;
using MoeLpr.Tests.TestSupport;

namespace MoeLpr.Tests.Evaluation;

public class NextSentenceTaskBuilderTests
{
    static readonly string[] Languages = ["en", "es", "zh", "el", "hu", "tr"];
    static string Corpus => Path.Combine(DataTestFiles.RepoRoot, "data", "corpus");
    static string ShippedTask => Path.Combine(DataTestFiles.RepoRoot, "data", "tasks", "next_sentence.jsonl");

    [Fact]
    public void ShippedTaskIsReproducibleFromTheCorpus()
    {
        using var temp = new TempDirectory();
        MultipleChoiceTaskFile.Save(temp.File("task.jsonl"),
            NextSentenceTaskBuilder.BuildFromCorpus(Corpus, Languages, "test", 100));
        Assert.Equal(File.ReadAllBytes(ShippedTask), File.ReadAllBytes(temp.File("task.jsonl")));
    }

    [Fact]
    public void GoldFollowsTheContextOnItsPageAndDistractorsComeFromOtherPages()
    {
        var items = MultipleChoiceTaskFile.Load(ShippedTask);
        Assert.Equal(Languages, items.Select(i => i.Language).Distinct());
        var pagesOf = Languages.ToDictionary(l => l,
            l => DocumentReader.Read(Path.Combine(Corpus, $"{l}.test.jsonl"), "text")
            .Select(d => d.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0).ToArray()).ToList());
        foreach (var language in Languages)
        {
            var pages = pagesOf[language];
            var foreign = Languages.Where(l => l != language)
                .SelectMany(l => pagesOf[l]).SelectMany(p => p).ToHashSet();
            // The gold line follows the context, with only lines of other languages (untranslated strings) between
            // them.
            bool Follows(string[] page, string context, string gold) =>
                Enumerable.Range(0, page.Length).Any(i => page[i] == context &&
                    page.Skip(i + 1).SkipWhile(foreign.Contains).FirstOrDefault() == gold);
            var ofLanguage = items.Where(i => i.Language == language).ToList();
            Assert.Equal(100, ofLanguage.Count);
            Assert.Equal(100, ofLanguage.Select(i => (i.Context, i.Choices[i.Gold])).Distinct().Count());
            foreach (var item in ofLanguage)
            {
                Assert.Equal(4, item.Choices.Count);
                Assert.Equal(4, item.Choices.Distinct().Count());
                Assert.DoesNotContain(item.Context, foreign);
                Assert.All(item.Choices, c => Assert.DoesNotContain(c, foreign));
                var sourcePages = pages.Where(p => Follows(p, item.Context, item.Choices[item.Gold])).ToList();
                Assert.Single(sourcePages);
                foreach (var wrong in item.Choices.Where((_, c) => c != item.Gold))
                    Assert.Contains(pages, p => p.Contains(wrong) && !sourcePages.Contains(p));
            }
            // Gold positions are spread, not stuck at one index.
            Assert.True(ofLanguage.GroupBy(i => i.Gold).Count() == 4,
                $"{language}: gold positions {string.Join(",", ofLanguage.Select(i => i.Gold).Distinct())}");
        }
    }

    [Fact]
    public void TooFewSentencePairsIsAClearError()
    {
        var error = Assert.Throws<InvalidDataException>(() => NextSentenceTaskBuilder.Build(
            [("xx", ["First line of page one.\nSecond line of page one.", "Only one line on page two."])],
            itemsPerLanguage: 2));
        Assert.Contains("'xx': only 1 usable sentence pairs, 2 requested", error.Message);
    }
}
