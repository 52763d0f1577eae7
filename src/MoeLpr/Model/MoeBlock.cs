using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Model;

#pragma warning disable IDE1006 // field names are the reference PEFT state-dict keys

/// <summary>
/// The MoE-LPR feed-forward layer (reference PEFT <c>MoeLayer</c> + <c>MLP.topk_route</c>).
/// Expert 0 is the original MLP (<c>base_layer</c>), experts 1..N-1 are <c>moe_experts[0..N-2]</c>.
/// Routing, per token x: p = softmax_fp32(W_r·x) over all N experts, keep the top-K, renormalise the K weights to
/// sum to 1 only when K &gt; 1, output Σ_k w_k · expert_k(x). No shared expert, no capacity limit.
/// </summary>
public sealed class MoeBlock : nn.Module<Tensor, MoeBlockOutput>
{
    private readonly LlamaMLP base_layer;
    private readonly ModuleList<LlamaMLP> moe_experts;
    private readonly Linear moe_router_embedding;

    /// <summary>Total experts N, including the original MLP.</summary>
    public int NumExperts { get; }
    public int TopK { get; }

    /// <summary>The router matrix W_r [N, h]; upcycling initialises it.</summary>
    public Parameter RouterWeight => moe_router_embedding.weight!;

    /// <summary>
    /// Wraps <paramref name="baseLayer"/> (kept as expert 0) and <paramref name="newExperts"/> (experts 1..N-1).
    /// The router is created with the base layer's dtype and device; its initial values are the caller's business.
    /// </summary>
    public MoeBlock(LlamaMLP baseLayer, IReadOnlyList<LlamaMLP> newExperts, int topK) : base(nameof(MoeBlock))
    {
        NumExperts = newExperts.Count + 1;
        if (topK < 1 || topK > NumExperts)
            throw new ArgumentOutOfRangeException(nameof(topK), $"top-K must be in 1..{NumExperts} (got {topK})");
        TopK = topK;
        base_layer = baseLayer;
        moe_experts = new ModuleList<LlamaMLP>(newExperts.ToArray());
        var baseWeight = baseLayer.GateWeight;   // [intermediate, hidden]
        moe_router_embedding = nn.Linear(baseWeight.shape[1], NumExperts, hasBias: false,
                                         device: baseWeight.device, dtype: baseWeight.dtype);
        RegisterComponents();
    }

    /// <summary>Expert <paramref name="index"/> in routing order: 0 = the original MLP.</summary>
    public LlamaMLP Expert(int index) => index == 0 ? base_layer : moe_experts[index - 1];

    public override MoeBlockOutput forward(Tensor hiddenStates)
    {
        using var scope = torch.NewDisposeScope();
        var shape = hiddenStates.shape;
        var tokens = hiddenStates.reshape(-1, shape[^1]);                         // [B*T, h]

        var routerLogits = moe_router_embedding.forward(tokens);                  // [B*T, N], model dtype
        var routingDtype = Precision.AtLeastFloat32(hiddenStates.dtype);
        var probabilities = routerLogits.softmax(1, routingDtype);                // over all N experts, float32
        var (weights, selected) = probabilities.topk(TopK, dim: -1);              // [B*T, K]
        if (TopK > 1)
            weights = weights / weights.sum(-1, keepdim: true);
        weights = weights.to_type(hiddenStates.dtype);

        // Each expert processes only the tokens that chose it: one gather, one scatter-add, experts in ascending
        // order (the reference's summation order).
        var mixed = torch.zeros_like(tokens);
        for (int e = 0; e < NumExperts; e++)
        {
            var choseE = selected.eq(e);                                          // [B*T, K], at most one true per row
            var tokenIndex = choseE.any(1).nonzero().squeeze(1);
            if (tokenIndex.shape[0] == 0) continue;
            var weightOfE = weights.masked_fill(choseE.logical_not(), 0).sum(1);  // [B*T]
            var output = Expert(e).forward(tokens.index_select(0, tokenIndex))
                         * weightOfE.index_select(0, tokenIndex).unsqueeze(1);
            mixed.index_add_(0, tokenIndex, output, alpha: 1);
        }

        return new MoeBlockOutput(
            mixed.reshape(shape).MoveToOuterDisposeScope(),
            routerLogits.to_type(routingDtype).MoveToOuterDisposeScope());
    }
}
