namespace MoeLpr.Data;

/// <summary>
/// What <see cref="HelpCorpusBuilder"/> wrote: the pages aligned across all languages and every file.
/// </summary>
public sealed record HelpCorpusSummary(int AlignedPages, IReadOnlyList<HelpCorpusFile> Files);
