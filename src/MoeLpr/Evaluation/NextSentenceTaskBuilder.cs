using System.Text;
using MoeLpr.Data;

namespace MoeLpr.Evaluation;

/// <summary>
/// Builds the "pick the true next sentence" multiple-choice task from help-page documents (one sentence or heading per
/// line): context = a line that occurs only once in the split, choices = the line that follows it plus distractor
/// lines from other pages of the same language, in seeded random order. Pairs are taken round-robin over shuffled pages
/// so items spread over the whole split. Deterministic for a given corpus, seed and settings.
/// </summary>
public static class NextSentenceTaskBuilder
{
    /// <summary>Lines shorter than this many UTF-8 bytes (headings such as "Type" or "Line 1") are not used.</summary>
    public const int DefaultMinBytes = 12;

    /// <param name="documentsByLanguage">Per language code, the split's documents in file order.</param>
    public static List<MultipleChoiceItem> Build(
        IReadOnlyList<(string Language, IReadOnlyList<string> Documents)> documentsByLanguage,
        int itemsPerLanguage, int distractors = 3, int seed = 1234, int minBytes = DefaultMinBytes)
    {
        if (itemsPerLanguage < 1)
            throw new ArgumentOutOfRangeException(nameof(itemsPerLanguage), "need at least one item per language");
        if (distractors < 1) throw new ArgumentOutOfRangeException(nameof(distractors), "need at least one distractor");
        var pagesByLanguage = documentsByLanguage.Select(d => (d.Language, Pages: d.Documents.Select(Lines).ToArray()))
            .ToList();
        var items = new List<MultipleChoiceItem>();
        foreach (var (language, pages) in pagesByLanguage)
        {
            // Lines found verbatim in another language's pages are untranslated strings or names ("LibreOffice Calc"),
            // not text of this language; they would make items answerable by script alone.
            var shared = pagesByLanguage.Where(o => o.Language != language)
                .SelectMany(o => o.Pages).SelectMany(l => l).ToHashSet();
            var own = pages.Select(lines => lines.Where(l => !shared.Contains(l)).ToArray()).ToArray();
            items.AddRange(BuildLanguage(language, own, itemsPerLanguage, distractors,
                new Random(seed ^ StableHash(language)), minBytes));
        }
        return items;
    }

    /// <summary>Reads <c>{corpusDir}/{language}.{split}.jsonl</c> for each language and builds the task.</summary>
    public static List<MultipleChoiceItem> BuildFromCorpus(string corpusDir, IReadOnlyList<string> languages,
                                                           string split, int itemsPerLanguage, int distractors = 3,
                                                           int seed = 1234, int minBytes = DefaultMinBytes) =>
        Build(languages.Select(l => (l, (IReadOnlyList<string>)DocumentReader.Read(
            Path.Combine(corpusDir, $"{l}.{split}.jsonl"), "text"))).ToList(),
              itemsPerLanguage, distractors, seed, minBytes);

    static string[] Lines(string document) =>
        document.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();

    /// <param name="pages">Each page's lines in order; lines of other languages already removed (their neighbours
    /// then count as adjacent, which is how the translated page reads).</param>
    static IEnumerable<MultipleChoiceItem> BuildLanguage(string language, string[][] pages, int count, int distractors,
        Random random, int minBytes)
    {
        bool Usable(string line) => Encoding.UTF8.GetByteCount(line) >= minBytes;

        // A context must occur once in the whole split: boilerplate such as "To access this command..." is followed
        // by different lines on different pages, so its true successor would be ambiguous.
        var occurrences = pages.SelectMany(lines => lines).CountBy(line => line).ToDictionary(p => p.Key, p => p.Value);

        // Candidate (context, answer) pairs per page, each page's pairs and the page order shuffled.
        var pairsByPage = pages.Select((lines, page) => Shuffled(Enumerable.Range(0, Math.Max(0, lines.Length - 1))
                .Where(i =>
                    Usable(lines[i]) && Usable(lines[i + 1]) && lines[i] != lines[i + 1] && occurrences[lines[i]] == 1)
                .Select(i => (Page: page, Line: i)).ToList(), random))
            .Where(p => p.Count > 0).ToList();
        pairsByPage = Shuffled(pairsByPage, random);
        var chosen = new List<(int Page, int Line)>();
        for (int round = 0; chosen.Count < count && pairsByPage.Any(p => p.Count > round); round++)
            foreach (var pairs in pairsByPage.Where(p => p.Count > round))
                if (chosen.Count < count) chosen.Add(pairs[round]);
        if (chosen.Count < count)
            throw new InvalidDataException(
                $"language '{language}': only {chosen.Count} usable sentence pairs, {count} requested");

        var pool = pages.SelectMany(
            (lines, page) => lines.Where(Usable).Distinct().Select(line => (Page: page, Text: line))).ToList();
        for (int n = 0; n < chosen.Count; n++)
        {
            var (page, line) = chosen[n];
            string context = pages[page][line], answer = pages[page][line + 1];
            if (pool.Where(p => p.Page != page && p.Text != answer && p.Text != context)
                .Select(p => p.Text).Distinct().Count() < distractors)
                throw new InvalidDataException(
                    $"language '{language}': fewer than {distractors} distractor sentences on other pages");
            var wrong = new List<string>();
            while (wrong.Count < distractors)
            {
                var (otherPage, text) = pool[random.Next(pool.Count)];
                if (otherPage != page && text != answer && text != context && !wrong.Contains(text)) wrong.Add(text);
            }
            int gold = random.Next(distractors + 1);
            wrong.Insert(gold, answer);
            yield return new MultipleChoiceItem(context, wrong, gold, language, $"{language}-{n:D3}");
        }
    }

    static List<T> Shuffled<T>(List<T> list, Random random)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
        return list;
    }

    /// <summary>FNV-1a of the language code: string.GetHashCode differs between processes.</summary>
    static int StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text) hash = (hash ^ c) * 16777619;
        return (int)hash;
    }
}
