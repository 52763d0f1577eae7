using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Data;

/// <summary>
/// Token blocks of exactly <see cref="CutoffLen"/> ids, each token with its document's language flag (true = old
/// language), as <see cref="CorpusPacker"/> builds them. Blocks are in dataset order; shuffling is the trainer's job.
/// </summary>
public sealed class PackedCorpus
{
    public int CutoffLen { get; }
    public IReadOnlyList<int[]> Blocks { get; }
    public IReadOnlyList<bool[]> OldLanguage { get; }
    public IReadOnlyList<PackedDatasetStats> Datasets { get; }
    /// <summary>True when this corpus was read from the packing cache instead of being tokenised.</summary>
    public bool FromCache { get; }

    public PackedCorpus(int cutoffLen, IReadOnlyList<int[]> blocks, IReadOnlyList<bool[]> oldLanguage,
        IReadOnlyList<PackedDatasetStats> datasets, bool fromCache)
    {
        if (blocks.Count != oldLanguage.Count) throw new ArgumentException("every block needs a language mask");
        for (int i = 0; i < blocks.Count; i++)
            if (blocks[i].Length != cutoffLen || oldLanguage[i].Length != cutoffLen)
                throw new ArgumentException($"block {i} is not {cutoffLen} tokens long");
        CutoffLen = cutoffLen;
        Blocks = blocks;
        OldLanguage = oldLanguage;
        Datasets = datasets;
        FromCache = fromCache;
    }

    public int Count => Blocks.Count;

    public long OldLanguageTokens => OldLanguage.Sum(mask => (long)mask.Count(old => old));

    /// <summary>The largest token id in the blocks (-1 when there is none), to check against a model's vocabulary.
    /// </summary>
    public int MaxTokenId => Blocks.Count == 0 ? -1 : Blocks.Max(block => block.Max());

    /// <summary>
    /// The chosen blocks as <c>input_ids</c> [B,T] int64 and <c>old_language_mask</c> [B,T] bool (CPU).
    /// </summary>
    public (Tensor InputIds, Tensor OldLanguageMask) MakeBatch(IReadOnlyList<int> blockIndices)
    {
        if (blockIndices.Count == 0)
            throw new ArgumentException("a batch needs at least one block", nameof(blockIndices));
        var ids = new long[blockIndices.Count * CutoffLen];
        var mask = new bool[blockIndices.Count * CutoffLen];
        for (int row = 0; row < blockIndices.Count; row++)
        {
            int block = blockIndices[row];
            if (block < 0 || block >= Count)
                throw new ArgumentOutOfRangeException(nameof(blockIndices), $"block {block} is outside 0..{Count - 1}");
            for (int t = 0; t < CutoffLen; t++)
            {
                ids[row * CutoffLen + t] = Blocks[block][t];
                mask[row * CutoffLen + t] = OldLanguage[block][t];
            }
        }
        long[] shape = [blockIndices.Count, CutoffLen];
        return (torch.tensor(ids, shape), torch.tensor(mask, shape));
    }
}

/// <summary>How one dataset went into a <see cref="PackedCorpus"/>: tokens include one EOS per document; the
/// remainder shorter than a block is dropped, as in the reference.</summary>
public sealed record PackedDatasetStats(string Name, bool IsOldLanguage, int Documents, long Tokens, int Blocks,
    int DroppedTokens);
