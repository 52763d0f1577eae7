namespace MoeLpr.Data;

/// <summary>Size of one written corpus file.</summary>
public sealed record HelpCorpusFile(string Dataset, string Language, string Split, string Path, int Pages, long Bytes);
