using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MoeLpr.Data;

/// <summary>
/// Builds the parallel plain-text corpus from the LibreOffice help pages: one document per help page, only pages that
/// are translated (not copies of the English text) in every corpus language, the same pages in the same split in every
/// language (<see cref="CorpusSplit"/>), listed in a fixed pseudo-random order. Writes
/// <c>corpus/{lang}.{split}.jsonl</c>, the toy example <c>moelpr_examples/{ja,zh}.jsonl</c>, their
/// <c>dataset_info.json</c> entries and a licence notice.
/// </summary>
public static class HelpCorpusBuilder
{
    static readonly JsonSerializerOptions JsonLine = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Pages shorter than this (in characters) are stubs (a title, a lone link) and are left out.</summary>
    public const int MinimumPageChars = 40;

    /// <summary>A translated page whose text is more than this share (by characters) of lines copied verbatim from
    /// the English page is treated as untranslated and left out, so a "new language" file is not half
    /// English.</summary>
    public const double MaxShareCopiedFromEnglish = 0.5;

    public static HelpCorpusSummary Build(HelpCorpusOptions options)
    {
        var languages = HelpLanguage.All.Where(l => Directory.Exists(Path.Combine(options.HelpRoot, l.HelpDirectory)))
            .ToList();
        if (!languages.Any(l => l.InCorpus))
            throw new InvalidDataException($"{options.HelpRoot}: no help language folders " +
                                           $"({string.Join(", ", HelpLanguage.All.Select(l => l.HelpDirectory))})");

        var pages = languages.ToDictionary(l => l.Code,
            l => ReadPages(Path.Combine(options.HelpRoot, l.HelpDirectory)));
        if (pages.TryGetValue("en", out var english))
            foreach (var (code, translated) in pages.Where(p => p.Key != "en"))
                foreach (string id in translated.Keys
                             .Where(id => english.TryGetValue(id, out var en) &&
                                          ShareCopied(translated[id], en) > MaxShareCopiedFromEnglish)
                             .ToList())
                    translated.Remove(id);
        var corpusLanguages = languages.Where(l => l.InCorpus).ToList();
        var aligned = Aligned(corpusLanguages.Select(l => pages[l.Code]).ToList());
        if (aligned.Count == 0)
            throw new InvalidDataException($"{options.HelpRoot}: no help page has text in every language");

        var bySplit = CorpusSplit.All.ToDictionary(s => s, s =>
            Limit(aligned.Where(id => CorpusSplit.Of(id) == s),
                s == CorpusSplit.Train ? options.MaxTrain : options.MaxEval));
        string corpusDir = Path.Combine(options.OutDir, "corpus");
        Directory.CreateDirectory(corpusDir);
        var files = new List<HelpCorpusFile>();
        var registrations = new List<(string, string, string)>();
        foreach (var language in corpusLanguages)
        {
            foreach (var split in CorpusSplit.All)
            {
                string dataset = $"{language.Code}_{split}";
                string path = Path.Combine(corpusDir, $"{language.Code}.{split}.jsonl");
                files.Add(Write(dataset, language, split, path, bySplit[split], pages[language.Code]));
                registrations.Add((dataset, path, language.Language));
            }
        }
        if (options.ExampleDocuments > 0 && pages.ContainsKey("ja") && pages.ContainsKey("zh"))
        {
            string examplesDir = Path.Combine(options.OutDir, "moelpr_examples");
            Directory.CreateDirectory(examplesDir);
            var examplePages = Aligned([pages["ja"], pages["zh"]])
                .Where(id => CorpusSplit.Of(id) == CorpusSplit.Train).Take(options.ExampleDocuments).ToList();
            foreach (var code in new[] { "ja", "zh" })
            {
                var language = languages.Single(l => l.Code == code);
                string path = Path.Combine(examplesDir, $"{code}.jsonl");
                files.Add(Write($"moelpr_{code}", language, CorpusSplit.Train, path, examplePages, pages[code]));
                registrations.Add(($"moelpr_{code}", path, language.Language));
            }
        }
        DatasetInfoWriter.RegisterAll(Path.Combine(options.OutDir, "dataset_info.json"), registrations);
        WriteNotice(Path.Combine(corpusDir, "LICENSE-NOTICE.md"), languages, options, aligned.Count);
        return new HelpCorpusSummary(aligned.Count, files);
    }

    /// <summary>
    /// Page id (path under the language folder, e.g. <c>text/scalc/01/04060101.html</c>) → article text.
    /// </summary>
    internal static Dictionary<string, string> ReadPages(string languageDir)
    {
        var pages = new Dictionary<string, string>(StringComparer.Ordinal);
        string textDir = Path.Combine(languageDir, "text");
        if (!Directory.Exists(textDir)) return pages;
        foreach (string file in Directory.EnumerateFiles(textDir, "*.html", SearchOption.AllDirectories))
        {
            string text = HelpPageText.Extract(File.ReadAllText(file));
            if (text.Length >= MinimumPageChars)
                pages[Path.GetRelativePath(languageDir, file).Replace('\\', '/')] = text;
        }
        return pages;
    }

    /// <summary>
    /// Page ids with text in every one of <paramref name="languages"/>, in the files' pseudo-random order.
    /// </summary>
    static List<string> Aligned(IReadOnlyList<Dictionary<string, string>> languages) =>
        languages.Skip(1).Aggregate(languages[0].Keys.AsEnumerable(), (ids, other) => ids.Where(other.ContainsKey))
            .OrderBy(CorpusSplit.OrderKey, StringComparer.Ordinal).ToList();

    /// <summary>
    /// Share of the characters of <paramref name="translated"/> in lines that also occur in the English page.
    /// </summary>
    internal static double ShareCopied(string translated, string english)
    {
        var englishLines = english.Split('\n').ToHashSet(StringComparer.Ordinal);
        var lines = translated.Split('\n');
        return lines.Where(englishLines.Contains).Sum(l => (double)l.Length) / lines.Sum(l => (double)l.Length);
    }

    static List<string> Limit(IEnumerable<string> ids, int? max) => (max is int m ? ids.Take(m) : ids).ToList();

    static HelpCorpusFile Write(string dataset, HelpLanguage language, string split, string path,
        IReadOnlyList<string> ids, Dictionary<string, string> pages)
    {
        using (var writer = new StreamWriter(path, append: false, new UTF8Encoding(false)) { NewLine = "\n" })
            foreach (string id in ids)
                writer.WriteLine(new JsonObject { ["id"] = id, ["text"] = pages[id] }.ToJsonString(JsonLine));
        return new HelpCorpusFile(dataset, language.Code, split, path, ids.Count, new FileInfo(path).Length);
    }

    static void WriteNotice(string path, IReadOnlyList<HelpLanguage> languages, HelpCorpusOptions options,
        int alignedPages)
    {
        var notice = new StringBuilder();
        notice.AppendLine("# Source and licence of this corpus").AppendLine();
        notice.AppendLine("The documents are the help pages of LibreOffice 7.4 as translated by the LibreOffice " +
                          "community and shipped by");
        notice.AppendLine("Debian 12 (bookworm), converted to plain text by `moelpr corpus` " +
                          "(`src/MoeLpr/Data/HelpPageText.cs`): only the");
        notice.AppendLine("article is kept (navigation, note icons, related-topic links and code samples " +
                          "dropped), whitespace collapsed.");
        notice.AppendLine("Pages that are mostly untranslated English in some language are left out.");
        notice.AppendLine($"{alignedPages} pages are translated in every corpus language; " +
                          $"files list a prefix of them in a fixed pseudo-random order.").AppendLine();
        notice.AppendLine("Debian packages:").AppendLine();
        var versions = options.PackagesFile is not null && File.Exists(options.PackagesFile)
            ? File.ReadAllLines(options.PackagesFile)
            : [];
        foreach (var language in languages)
        {
            string? line = versions.FirstOrDefault(v => v.StartsWith(language.Package + " ", StringComparison.Ordinal));
            notice.AppendLine($"- `{line ?? language.Package}` → `{language.Code}` ({language.Language} language)");
        }
        notice.AppendLine().AppendLine("Licence: **MPL-2.0** (Mozilla Public License 2.0, " +
                                       "https://mozilla.org/MPL/2.0/); some upstream files include");
        notice.AppendLine("Apache-2.0 licensed material (Apache Software Foundation, " +
                          "OpenOffice.org). Copyright 2000, 2010 Oracle and/or its");
        notice.AppendLine("affiliates; Copyright (c) 2000, 2010 LibreOffice contributors and/or their affiliates.");
        if (options.CopyrightFile is not null && File.Exists(options.CopyrightFile))
        {
            notice.AppendLine().AppendLine("From the packages' `/usr/share/doc/<package>/copyright` " +
                                           "(`Files: *` stanza):").AppendLine().AppendLine("```");
            foreach (string line in File.ReadLines(options.CopyrightFile).SkipWhile(l => l != "Files: *").Skip(1)
                .TakeWhile(l => !l.StartsWith(" On Debian", StringComparison.Ordinal)))
                notice.AppendLine(line);
            notice.AppendLine("```");
        }
        File.WriteAllText(path, notice.ToString());
    }
}
