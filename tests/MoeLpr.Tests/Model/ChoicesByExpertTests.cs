using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Model;

/// <summary>
/// Grouping the (token, choice) pairs by expert with narrowed keys gives the permutation that a stable sort of the
/// router's int64 ids gives, and group ends that count each expert's choices, empty groups included.
/// </summary>
public class ChoicesByExpertTests
{
    [Theory]
    [InlineData(4, 2, ScalarType.Byte)]
    [InlineData(255, 3, ScalarType.Byte)]
    [InlineData(256, 2, ScalarType.Int32)]   // the group ends run to N, which a byte cannot hold
    [InlineData(300, 1, ScalarType.Int32)]
    public void MatchesAStableSortOfTheIdsWithGroupEndsPerExpert(int experts, int topK, ScalarType keyType)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(7);
        // Many ties, and only the low half of the experts chosen: the high groups are empty.
        var chosen = torch.randint(0, Math.Max(1, experts / 2), [57, topK], generator: generator);

        var choices = ChoicesByExpert.Sort(chosen, experts);

        Assert.Equal(keyType, choices.SortedExperts.dtype);
        var (expectedIds, expectedOrder) = chosen.reshape(-1).sort(dim: 0, stable: true);
        Assert.True(choices.Order.IsExactly(expectedOrder), "the order differs from a stable sort of the int64 ids");
        Assert.True(choices.SortedExperts.to_type(ScalarType.Int64).IsExactly(expectedIds));
        Assert.True(choices.TokenOfChoice.IsExactly(expectedOrder.div(topK, rounding_mode: RoundingMode.floor)));

        var expectedSizes = chosen.reshape(-1).bincount(null, experts);
        Assert.True(choices.GroupSizes().IsExactly(expectedSizes), "group sizes differ from the per-expert counts");
        var ends = choices.GroupEnds();
        Assert.Equal(ScalarType.Int32, ends.dtype);
        Assert.True(ends.IsExactly(expectedSizes.cumsum(0).to_type(ScalarType.Int32)),
            "group ends differ from the cumulative per-expert counts");
    }
}
