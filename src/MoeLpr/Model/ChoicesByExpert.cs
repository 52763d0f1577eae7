using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>
/// A batch's T·K (token, choice) pairs grouped by expert, as both of <see cref="MoeBlock"/>'s dispatches run them: one
/// stable sort of the chosen experts' ids, so that choice i (which belongs to token i / K) keeps its place among the
/// choices of the same expert, and each expert sees its tokens in ascending order.
/// </summary>
/// <param name="SortedExperts">[T·K] the chosen ids in ascending order, as <see cref="KeyType"/>.</param>
/// <param name="Order">[T·K] int64: which choice sits at each sorted position.</param>
/// <param name="TokenOfChoice">[T·K] int64: the token of each sorted choice.</param>
/// <param name="NumExperts">N, the block's experts.</param>
internal sealed record ChoicesByExpert(Tensor SortedExperts, Tensor Order, Tensor TokenOfChoice, int NumExperts)
{
    /// <summary>
    /// uint8 where the ids and the group ends (0..<paramref name="numExperts"/>) fit in a byte, else int32: a radix
    /// sort on CUDA makes one pass per byte of its keys, eight for the router's int64 ids and one for uint8.
    /// </summary>
    public static ScalarType KeyType(int numExperts) =>
        numExperts <= byte.MaxValue ? ScalarType.Byte : ScalarType.Int32;

    /// <param name="experts">[T, K] the experts each token chose.</param>
    public static ChoicesByExpert Sort(Tensor experts, int numExperts)
    {
        var keys = experts.reshape(-1).to_type(KeyType(numExperts));
        var (sorted, order) = keys.sort(dim: 0, stable: true);
        return new ChoicesByExpert(sorted, order, order.div(experts.shape[1], rounding_mode: RoundingMode.floor),
            numExperts);
    }

    /// <summary>
    /// [N] int32: where each expert's group ends in the sorted order (expert e's choices are the positions from the
    /// end of e − 1 up to its own), found by binary search on the device: a bincount would read the ids' range back
    /// to the host on CUDA.
    /// </summary>
    public Tensor GroupEnds() => searchsorted(SortedExperts,
        arange(1, NumExperts + 1, dtype: SortedExperts.dtype, device: SortedExperts.device), out_int32: true);

    /// <summary>[N] int64: each expert's number of choices (on CUDA, reading them back waits for the device).</summary>
    public Tensor GroupSizes() => SortedExperts.bincount(null, NumExperts);
}
