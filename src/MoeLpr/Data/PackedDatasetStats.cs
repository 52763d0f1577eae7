namespace MoeLpr.Data;

/// <summary>How one dataset went into a <see cref="PackedCorpus"/>: tokens include one EOS per document; the
/// remainder shorter than a block is dropped, as in the reference.</summary>
public sealed record PackedDatasetStats(string Name, bool IsOldLanguage, int Documents, long Tokens, int Blocks, int DroppedTokens);
