namespace MoeLpr.Data;

/// <summary>The documents of one registered dataset, in file order, with the facts packing needs.</summary>
/// <param name="IsOldLanguage">True for "old", false for "new", null when the entry has no <c>language</c>.</param>
/// <param name="FileSha1">SHA-1 of the file as read (not as registered), so caches key on the real content.</param>
public sealed record LoadedDataset(string Name, string FilePath, string FileSha1, bool? IsOldLanguage, IReadOnlyList<string> Documents);
