using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MoeLpr.Data;

/// <summary>
/// The old-language pretraining corpus for the base model: for each old language (en, es, zh), every LibreOffice help
/// page translated into it (not only the pages translated into all six corpus languages) plus the pages of the
/// translated Debian manuals in <see cref="DocumentationSource.All"/>. A page of another language that is mostly lines
/// copied from its English page is left out, as in <see cref="HelpCorpusBuilder"/>. Every page keeps the split that
/// <see cref="CorpusSplit"/> gives its id — for help pages the same path id as the parallel corpus — so no
/// validation or test page of <c>data/corpus</c> is ever pretrained on, nor a page whose text is word for word that of
/// one. Writes <c>pretrain/{lang}.train.jsonl</c> (dataset <c>{lang}_pretrain</c>) and
/// <c>pretrain/{lang}.valid.jsonl</c> (<c>{lang}_pretrain_valid</c>); test pages are not written at all.
/// </summary>
public static class PretrainingCorpusBuilder
{
    public const string Folder = "pretrain";
    static readonly JsonSerializerOptions JsonLine = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Pages and UTF-8 bytes of text one source gave one language's split.</summary>
    public sealed record SourceCount(string Source, string Language, string Split, int Pages, long Bytes);

    public static IReadOnlyList<SourceCount> Build(string helpRoot, string docsRoot, string outDir)
    {
        var languages = HelpLanguage.All.Where(l => l.IsOld && l.InCorpus).ToList();
        // source name → language → page id → text
        var sources = new Dictionary<string, Dictionary<string, Dictionary<string, string>>>();
        sources["libreoffice-help"] = languages.ToDictionary(l => l.Code,
            l => HelpCorpusBuilder.ReadPages(Path.Combine(helpRoot, l.HelpDirectory)));
        foreach (var source in DocumentationSource.All)
            sources[source.Name] = languages.ToDictionary(l => l.Code,
                l => ReadDocumentation(source, l.Code, docsRoot));

        foreach (var (name, byLanguage) in sources)
        {
            if (byLanguage.Values.All(pages => pages.Count == 0))
                throw new InvalidDataException($"{docsRoot}: no page of {name} found");
            var english = byLanguage["en"];
            foreach (var (code, pages) in byLanguage.Where(p => p.Key != "en"))
            {
                var copied = pages.Keys.Where(id => english.TryGetValue(id, out var en)
                    && HelpCorpusBuilder.ShareCopied(pages[id], en) > HelpCorpusBuilder.MaxShareCopiedFromEnglish);
                foreach (string id in copied.ToList())
                    pages.Remove(id);
            }
        }

        string folder = Path.Combine(outDir, Folder);
        Directory.CreateDirectory(folder);
        var counts = new List<SourceCount>();
        var registrations = new List<(string, string, string)>();
        foreach (var language in languages)
        {
            (string Split, string Dataset)[] outputs =
            [
                (CorpusSplit.Train, $"{language.Code}_pretrain"),
                (CorpusSplit.Valid, $"{language.Code}_pretrain_valid"),
            ];
            foreach (var (split, dataset) in outputs)
            {
                // LibreOffice has pages with the same text under two paths: a page that repeats a held-out page's text
                // word for word is held out too (train: any valid/test text; valid: any test text).
                var heldOut = sources.Values.SelectMany(byLanguage => byLanguage[language.Code])
                    .Where(page => split == CorpusSplit.Train
                        ? CorpusSplit.Of(page.Key) != CorpusSplit.Train
                        : CorpusSplit.Of(page.Key) == CorpusSplit.Test)
                    .Select(page => page.Value).ToHashSet(StringComparer.Ordinal);
                var documents = sources.SelectMany(source => source.Value[language.Code]
                        .Where(page => CorpusSplit.Of(page.Key) == split && !heldOut.Contains(page.Value))
                        .Select(page => (Source: source.Key, Id: page.Key, Text: page.Value)))
                    .OrderBy(d => CorpusSplit.OrderKey(d.Id), StringComparer.Ordinal)
                    .ThenBy(d => d.Id, StringComparer.Ordinal)
                    .ToList();
                string path = Path.Combine(folder, $"{language.Code}.{split}.jsonl");
                using (var writer = new StreamWriter(path, append: false, new UTF8Encoding(false)) { NewLine = "\n" })
                    foreach (var d in documents)
                        writer.WriteLine(new JsonObject { ["id"] = d.Id, ["text"] = d.Text }.ToJsonString(JsonLine));
                registrations.Add((dataset, path, language.Language));
                counts.AddRange(documents.GroupBy(d => d.Source).Select(g =>
                    new SourceCount(g.Key, language.Code, split, g.Count(),
                        g.Sum(d => (long)Encoding.UTF8.GetByteCount(d.Text)))));
            }
        }
        DatasetInfoWriter.RegisterAll(Path.Combine(outDir, "dataset_info.json"), registrations);
        return counts;
    }

    /// <summary>
    /// Page id (<c>{source}/{relative path without the language suffix}</c>) → text, for one language.
    /// </summary>
    static Dictionary<string, string> ReadDocumentation(DocumentationSource source, string language, string docsRoot)
    {
        var pages = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!source.Languages.TryGetValue(language, out var location)) return pages;
        string directory = Path.Combine(docsRoot, location.Directory);
        if (!Directory.Exists(directory)) return pages;
        foreach (string file in Directory.EnumerateFiles(directory, "*" + location.Suffix, SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(directory, file).Replace('\\', '/');
            string text = HelpPageText.ExtractDocument(File.ReadAllText(file));
            if (text.Length >= HelpCorpusBuilder.MinimumPageChars)
                pages[$"{source.Name}/{relative[..^location.Suffix.Length]}"] = text;
        }
        return pages;
    }
}
