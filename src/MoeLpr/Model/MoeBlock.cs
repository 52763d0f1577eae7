using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Model;

#pragma warning disable IDE1006 // field names are the reference PEFT state-dict keys

/// <summary>
/// MoE block result: mixed expert outputs [B, T, h] and router logits [B*T, N] in float32 (or wider).
/// </summary>
public sealed record MoeBlockOutput(Tensor HiddenStates, Tensor RouterLogits);

/// <summary>
/// What a router decides for T tokens: <see cref="Probabilities"/> [T, N] over all experts, the chosen
/// <see cref="Experts"/> [T, K] (best first) and their mixing <see cref="Weights"/> [T, K].
/// </summary>
public sealed record Routing(Tensor Probabilities, Tensor Weights, Tensor Experts);

/// <summary>How an <see cref="MoeBlock"/> runs its experts; every choice computes the same mixture.</summary>
public enum ExpertDispatch
{
    /// <summary>
    /// <see cref="Grouped"/> on CUDA in bfloat16 or float16 where the experts allow it, else <see cref="Loop"/>.
    /// </summary>
    Auto,
    /// <summary>Each chosen expert on its tokens in turn: cache-friendly on a CPU, one host sync per layer.</summary>
    Loop,
    /// <summary>All experts in one grouped GEMM per projection (<see cref="GroupedExperts"/>): no host sync.</summary>
    Grouped,
}

/// <summary>
/// The MoE-LPR feed-forward layer (reference PEFT <c>MoeLayer</c> + <c>MLP.topk_route</c>).
/// Expert 0 is the original MLP (<c>base_layer</c>), experts 1..N-1 are <c>moe_experts[0..N-2]</c>.
/// Routing, per token x (<see cref="Route"/>): p = softmax_fp32(W_r·x) over all N experts, keep the top-K, renormalise
/// the K weights to sum to 1 only when K &gt; 1, output Σ_k w_k · expert_k(x). No shared expert, no capacity limit.
/// </summary>
public sealed class MoeBlock : nn.Module<Tensor, MoeBlockOutput>
{
    /// <summary>
    /// In the name of every parameter upcycling adds (<c>moe_experts</c>, <c>moe_router_embedding</c>) and of no base
    /// parameter: what stage 1 trains and what an MoE adapter saves, as in the reference's PEFT tuner.
    /// </summary>
    public const string AdapterMarker = "moe_";
    /// <summary>In the name of the router's weight only: what stage 2 trains.</summary>
    public const string RouterMarker = "moe_router_embedding";

    private readonly LlamaMLP base_layer;
    private readonly ModuleList<LlamaMLP> moe_experts;
    private readonly Linear moe_router_embedding;
    private StackedExpertWeights? stackedWeights;

    /// <summary>Total experts N, including the original MLP.</summary>
    public int NumExperts { get; }
    public int TopK { get; }

    /// <summary>How <see cref="forward"/> runs the experts (<see cref="ExpertDispatch.Auto"/> unless set).</summary>
    public ExpertDispatch Dispatch { get; set; } = ExpertDispatch.Auto;

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
        stackedWeights = StackedExpertWeights.Share(this);
    }

    /// <summary>
    /// The experts' weights stacked per projection, each expert's weight a view of its slice; null when an adapter
    /// wraps a projection or a weight was replaced since (see <see cref="StackedExpertWeights"/>).
    /// </summary>
    internal StackedExpertWeights? StackedWeights => stackedWeights?.IsIntact(this) == true ? stackedWeights : null;

    /// <summary>Moving or converting the block replaces its parameters: stack the experts' new ones again.</summary>
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        if (StackedWeights is not null) return;
        stackedWeights?.Dispose();
        stackedWeights = StackedExpertWeights.Share(this);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) stackedWeights?.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Sets <see cref="Dispatch"/> of every MoE block in <paramref name="model"/>.</summary>
    public static void SetDispatch(nn.Module model, ExpertDispatch dispatch)
    {
        foreach (var block in model.modules().OfType<MoeBlock>()) block.Dispatch = dispatch;
    }

    /// <summary>Expert <paramref name="index"/> in routing order: 0 = the original MLP.</summary>
    public LlamaMLP Expert(int index) => index == 0 ? base_layer : moe_experts[index - 1];

    /// <summary>
    /// The routing rule, written once: the block routes with it, and the balance loss, the routing statistics and the
    /// trainer's routing log read the block's router logits through it. Softmax over all N experts in float32 (float64
    /// for float64 weights), top-K, and the K weights renormalised to sum to 1 when K &gt; 1 (the reference's
    /// <c>topk_route</c>); the weights stay in the probabilities' dtype.
    /// </summary>
    /// <param name="routerLogits">[T, N] router logits of any floating dtype.</param>
    public static Routing Route(Tensor routerLogits, int topK)
    {
        var probabilities = routerLogits.softmax(-1, Precision.AtLeastFloat32(routerLogits.dtype));
        var (weights, experts) = probabilities.topk(topK, dim: -1);
        if (topK > 1)
            weights = weights / weights.sum(-1, keepdim: true);
        return new Routing(probabilities, weights, experts);
    }

    public override MoeBlockOutput forward(Tensor hiddenStates)
    {
        using var scope = torch.NewDisposeScope();
        var shape = hiddenStates.shape;
        var tokens = hiddenStates.reshape(-1, shape[^1]);                         // [B*T, h]

        // Widened once: the softmax would widen them itself, and the block returns them widened.
        var routerLogits = moe_router_embedding.forward(tokens)                   // [B*T, N], float32 or wider
            .to_type(Precision.AtLeastFloat32(tokens.dtype));
        var routing = Route(routerLogits, TopK);
        var weights = routing.Weights.to_type(hiddenStates.dtype);                // [B*T, K]
        var mixed = UsesGroupedExperts(tokens.dtype, tokens.device_type)
            ? GroupedExperts.Mix(this, tokens, routing.Experts, weights)
            : LoopOverExperts(tokens, routing.Experts, weights);

        return new MoeBlockOutput(
            mixed.reshape(shape).MoveToOuterDisposeScope(),
            routerLogits.MoveToOuterDisposeScope());
    }

    /// <summary>The dispatch <see cref="forward"/> takes for tokens of <paramref name="dtype"/> on
    /// <paramref name="device"/>.</summary>
    public bool UsesGroupedExperts(ScalarType dtype, DeviceType device) => Dispatch switch
    {
        ExpertDispatch.Loop => false,
        ExpertDispatch.Grouped => GroupedExperts.Supports(this, dtype) ? true : throw new NotSupportedException(
            $"grouped experts need float32, bfloat16 or float16 tokens (got {dtype}) and experts without " +
            "adapters; use ExpertDispatch.Loop or Auto"),
        _ => device == DeviceType.CUDA && dtype is ScalarType.BFloat16 or ScalarType.Float16 &&
             GroupedExperts.Supports(this, dtype),
    };

    /// <summary>
    /// "grouped" or "loop": how the MoE blocks of <paramref name="model"/> run their experts on
    /// <paramref name="device"/>, in their weights' dtype (the tokens'); null for a model without MoE blocks.
    /// </summary>
    public static string? ExpertDispatchOf(nn.Module model, DeviceType device) =>
        model.modules().Prepend(model).OfType<MoeBlock>().FirstOrDefault() is { } block
            ? block.UsesGroupedExperts(block.RouterWeight.dtype, device) ? "grouped" : "loop"
            : null;

    Tensor LoopOverExperts(Tensor tokens, Tensor experts, Tensor weights)
    {
        using var scope = torch.NewDisposeScope();
        // The (token, choice) pairs grouped by expert; one host sync (the per-expert counts) sizes the groups. Each
        // chosen expert then runs once on its tokens (one gather, one scatter-add), in ascending expert order (the
        // reference's summation order). Experts no token chose cost nothing.
        var choices = ChoicesByExpert.Sort(experts, NumExperts);
        var weightOfChoice = weights.reshape(-1).index_select(0, choices.Order).unsqueeze(1);
        var counts = choices.GroupSizes().cpu().data<long>().ToArray();

        var mixed = torch.zeros_like(tokens);
        long start = 0;
        foreach (var (e, count) in counts.Index())
        {
            if (count == 0) continue;
            var tokenIndex = choices.TokenOfChoice.narrow(0, start, count);
            var output = Expert(e).forward(tokens.index_select(0, tokenIndex)) *
                weightOfChoice.narrow(0, start, count);
            mixed.index_add_(0, tokenIndex, output, alpha: 1);
            start += count;
        }
        return mixed.MoveToOuterDisposeScope();
    }
}
