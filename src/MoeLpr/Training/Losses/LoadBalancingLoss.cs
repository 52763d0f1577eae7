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
        long tokens = routerLogits[0].shape[0];
        if (routerLogits.Any(logits => logits.shape[0] != tokens))
            throw new ArgumentException("every MoE layer must route the same tokens", nameof(routerLogits));
        using var scope = torch.NewDisposeScope();
        // All layers routed at once (routing is per token), then F and P as means over each layer's tokens: a dozen
        // kernels whatever the layer count, where a loop over layers launched them per layer.
        var routing = MoeBlock.Route(torch.cat(routerLogits.ToArray()), topK);                      // [L·T, N]
        var probabilities = routing.Probabilities.view(routerLogits.Count, tokens, numExperts);       // [L, T, N]
        var chosen = nn.functional.one_hot(routing.Experts, numExperts).sum(1)                       // [L·T, N], 0/1
            .to_type(probabilities.dtype).view(routerLogits.Count, tokens, numExperts);
        var fractionRouted = chosen.mean([1]);                                                       // F [L, N]
        var meanProbability = probabilities.mean([1]);                                               // P [L, N]
        var perLayer = numExperts * (fractionRouted * meanProbability).sum(1);                       // [L]
        return perLayer.mean().MoveToOuterDisposeScope();
    }
}
