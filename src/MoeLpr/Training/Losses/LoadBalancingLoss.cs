using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Training.Losses;

/// <summary>
/// The reference's stage-1 auxiliary loss. Per MoE layer with router probabilities p_t = softmax_fp32(logits_t):
/// L = N · Σ_e F_e · P_e, where F_e is the fraction of tokens having e among their top-K and P_e the mean
/// probability of e; the result is the mean over layers. A perfectly balanced router scores K.
/// Gradient flows through P only (the top-K counts are piecewise constant).
/// </summary>
public static class LoadBalancingLoss
{
    public static Tensor Compute(IReadOnlyList<Tensor> routerLogits, int numExperts, int topK)
    {
        if (routerLogits.Count == 0)
            throw new ArgumentException("no router logits: the model has no MoE layer", nameof(routerLogits));
        using var scope = torch.NewDisposeScope();
        var perLayer = routerLogits.Select(logits => LayerLoss(logits, numExperts, topK)).ToArray();
        return torch.stack(perLayer).mean().MoveToOuterDisposeScope();
    }

    private static Tensor LayerLoss(Tensor logits, int numExperts, int topK)
    {
        var routing = MoeBlock.Route(logits, topK);
        var probabilities = routing.Probabilities;                                                            // [T, N]
        // [T, N], 0/1
        var chosen = nn.functional.one_hot(routing.Experts, numExperts).sum(1).to_type(probabilities.dtype);
        var fractionRouted = chosen.mean([0]);                                                                // F_e
        var meanProbability = probabilities.mean([0]);                                                        // P_e
        return numExperts * (fractionRouted * meanProbability).sum();
    }
}
