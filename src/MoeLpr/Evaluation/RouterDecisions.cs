using static TorchSharp.torch;

namespace MoeLpr.Evaluation;

/// <summary>
/// What a <see cref="Model.MoeBlock"/> decides for each token, recomputed from the router logits it returned:
/// the softmax over all N experts, the top-K expert ids, and the K mixing weights (renormalised to sum to 1 only when
/// K &gt; 1). The same tensor calls as the block, so ties and rounding resolve identically; the router itself (the
/// linear layer) is never re-run.
/// </summary>
public static class RouterDecisions
{
    /// <param name="routerLogits">[tokens, N] as <see cref="Model.CausalLMOutput.RouterLogits"/> holds them (float32 or wider).</param>
    public static (Tensor Probabilities, Tensor Weights, Tensor Experts) Route(Tensor routerLogits, int topK)
    {
        using var scope = NewDisposeScope();
        var probabilities = routerLogits.softmax(1, routerLogits.dtype);
        var (weights, experts) = probabilities.topk(topK, dim: -1);
        if (topK > 1)
            weights = weights / weights.sum(-1, keepdim: true);
        return (probabilities.MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope(), experts.MoveToOuterDisposeScope());
    }
}
