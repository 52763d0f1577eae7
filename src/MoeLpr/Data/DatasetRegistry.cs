using System.Text.Json;
using System.Text.RegularExpressions;

namespace MoeLpr.Data;

/// <summary>
/// The datasets named in a <c>dataset_info.json</c>. Files resolve relative to the json's folder. Unlike the reference
/// (which only warns), a <c>file_sha1</c> mismatch is an error unless the caller allows it, so an experiment can
/// never silently train on different data than it registered.
/// </summary>
public sealed partial class DatasetRegistry
{
    /// <summary>Where the kit's own registry sits, relative to the checkout.</summary>
    public const string DefaultInfoPath = "data/dataset_info.json";

    [GeneratedRegex("^[0-9a-fA-F]{40}$")]
    private static partial Regex Sha1Digest();

    public string InfoPath { get; }
    public IReadOnlyDictionary<string, DatasetEntry> Entries { get; }

    DatasetRegistry(string infoPath, IReadOnlyDictionary<string, DatasetEntry> entries)
    {
        InfoPath = infoPath;
        Entries = entries;
    }

    public static DatasetRegistry Open(string infoPath)
    {
        if (!File.Exists(infoPath))
            throw new InvalidDataException($"{infoPath}: dataset_info.json not found" + (Path.IsPathRooted(infoPath)
                ? ""
                : $" (relative to the current folder, {Environment.CurrentDirectory}; name it with --dataset-info)"));
        Dictionary<string, DatasetEntry>? entries;
        try
        {
            entries = JsonSerializer.Deserialize(File.ReadAllText(infoPath),
                DataJson.Default.DictionaryStringDatasetEntry);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{infoPath}: not a valid dataset_info.json ({e.Message})");
        }
        if (entries is null) throw new InvalidDataException($"{infoPath}: empty dataset_info.json");
        return new DatasetRegistry(Path.GetFullPath(infoPath), entries);
    }

    /// <summary>Splits the reference's comma-separated <c>--dataset a,b,c</c> form.</summary>
    public static IReadOnlyList<string> ParseNames(string names)
    {
        var parsed = names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parsed.Length > 0 ? parsed : throw new ArgumentException("no dataset given (--dataset a,b,c)");
    }

    /// <summary>
    /// The entry of <paramref name="name"/>, checked when it is asked for: a registry in LLaMA-Factory's format may
    /// also list datasets the kit cannot read (hub datasets), which must not stop a run on the others.
    /// </summary>
    public DatasetEntry Get(string name)
    {
        if (!Entries.TryGetValue(name, out var entry))
            throw new InvalidDataException($"{InfoPath}: unknown dataset '{name}' (known: " +
                                           $"{string.Join(", ", Entries.Keys.Order(StringComparer.Ordinal))})");
        if (entry is null) throw new InvalidDataException($"{InfoPath}: dataset '{name}' is null, not an object");
        if (string.IsNullOrWhiteSpace(entry.FileName))
            throw new InvalidDataException($"{InfoPath}: dataset '{name}' has no file_name (the kit reads local " +
                                           "JSON/JSONL files; hub datasets such as hf_hub_url are not supported)");
        if (entry.FileSha1 is not null && !Sha1Digest().IsMatch(entry.FileSha1))
            throw new InvalidDataException(
                $"{InfoPath}: dataset '{name}' has file_sha1 '{entry.FileSha1}', which is not 40 hexadecimal digits");
        if (entry.Language is not (null or DatasetEntry.OldLanguage or DatasetEntry.NewLanguage))
            throw new InvalidDataException(
                $"{InfoPath}: dataset '{name}' has language '{entry.Language}', expected 'old' or 'new'");
        return entry;
    }

    public string PathOf(string name) =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(InfoPath)!, Get(name).FileName!));

    /// <summary>Reads the first <paramref name="maxSamples"/> documents of a dataset (all when null).</summary>
    /// <param name="requireLanguage">Language masks are wanted: the entry must say "old" or "new".</param>
    public LoadedDataset Load(string name, int? maxSamples = null, bool requireLanguage = false,
        bool allowSha1Mismatch = false)
    {
        var (entry, path, sha1) = Verify(name, requireLanguage, allowSha1Mismatch);
        var documents = DocumentReader.Read(path, entry.TextColumn, maxSamples);
        if (documents.Count == 0) throw new InvalidDataException($"{path}: dataset '{name}' has no documents");
        bool? isOld = entry.Language is null ? null : entry.Language == DatasetEntry.OldLanguage;
        return new LoadedDataset(name, path, sha1, isOld, documents);
    }

    /// <summary>
    /// A dataset's entry and file, checked before anything reads it: its language where masks need one, the file
    /// there, and its SHA-1 the registered one (unless the mismatch is allowed).
    /// </summary>
    public (DatasetEntry Entry, string Path, string Sha1) Verify(string name, bool requireLanguage,
        bool allowSha1Mismatch)
    {
        var entry = Get(name);
        string path = PathOf(name);
        if (requireLanguage && entry.Language is null)
            throw new InvalidDataException(
                $"{InfoPath}: dataset '{name}' has no \"language\" (\"old\" or \"new\"), which language masks need");
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: file of dataset '{name}' not found");
        string sha1 = FileHashes.Sha1(path);
        if (entry.FileSha1 is not null && !allowSha1Mismatch &&
            !string.Equals(entry.FileSha1, sha1, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{path}: SHA-1 is {sha1} but dataset '{name}' in {InfoPath} expects " +
                                           $"{entry.FileSha1} (file changed? --allow-sha1-mismatch uses it anyway)");
        return (entry, path, sha1);
    }

    public IReadOnlyList<LoadedDataset> LoadMany(IEnumerable<string> names, int? maxSamples = null,
        bool requireLanguage = false, bool allowSha1Mismatch = false) =>
        names.Select(name => Load(name, maxSamples, requireLanguage, allowSha1Mismatch)).ToList();
}

/// <summary>The documents of one registered dataset, in file order, with the facts packing needs.</summary>
/// <param name="IsOldLanguage">True for "old", false for "new", null when the entry has no <c>language</c>.</param>
/// <param name="FileSha1">SHA-1 of the file as read (not as registered), so caches key on the real content.</param>
public sealed record LoadedDataset(string Name, string FilePath, string FileSha1, bool? IsOldLanguage,
    IReadOnlyList<string> Documents);
