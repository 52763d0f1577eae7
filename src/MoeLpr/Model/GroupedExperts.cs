using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>
/// The GPU shape of an MoE layer's expert computation: every expert's matmuls in one grouped GEMM per projection
/// (<c>torch._grouped_mm</c>) over the (token, choice) pairs sorted by expert, with the group ends kept on the device.
/// No host sync and a fixed number of kernels whatever N is, where the per-expert loop reads the group sizes back to
/// the host and launches three matmuls per expert: on a GPU the loop leaves the device waiting for the host.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 binds no <c>_grouped_mm</c> (libtorch ≥ 2.8 has it, with autograd), so the three GEMMs and the
/// SwiGLU run as one TorchScript function. CUDA sm90+ in bfloat16 runs CUTLASS's grouped GEMM without a sync; other
/// devices and dtypes take libtorch's fallback (a loop of mm over the groups), correct but no faster.
/// </remarks>
public static class GroupedExperts
{
    const string Script = """
        def grouped_swiglu(x: Tensor, gate: Tensor, up: Tensor, down: Tensor, ends: Tensor) -> Tensor:
            g = torch._grouped_mm(x, gate.transpose(1, 2), ends)
            u = torch._grouped_mm(x, up.transpose(1, 2), ends)
            return torch._grouped_mm(torch.silu(g) * u, down.transpose(1, 2), ends)

        """;

    static readonly Lazy<torch.jit.CompilationUnit> Compiled = new(() => torch.jit.compile(Script));

    /// <summary>
    /// Whether <paramref name="block"/> can run grouped on <paramref name="tokens"/>: _grouped_mm has float32,
    /// bfloat16 and float16 kernels, and it needs every expert's projections as plain weights (no adapter).
    /// </summary>
    public static bool Supports(MoeBlock block, Tensor tokens) =>
        tokens.dtype is ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16 &&
        Enumerable.Range(0, block.NumExperts).All(e =>
            LlamaMLP.ProjectionNames.All(name => block.Expert(e).Projection(name) is Linear));

    /// <summary>
    /// Σ_k w_k · expert_k(x) for every token, the K terms added in ascending expert order (as the loop's
    /// scatter-adds), by a gather rather than atomics, so the result is deterministic on every device.
    /// </summary>
    /// <param name="tokens">[T, h].</param>
    /// <param name="experts">[T, K] chosen experts, any order.</param>
    /// <param name="weights">[T, K] their mixing weights, in the tokens' dtype.</param>
    public static Tensor Mix(MoeBlock block, Tensor tokens, Tensor experts, Tensor weights)
    {
        using var scope = torch.NewDisposeScope();
        long count = tokens.shape[0], hidden = tokens.shape[1];
        int topK = (int)experts.shape[1];

        // Each token's K choices in ascending expert order, then all T·K choices grouped by expert by one stable sort
        // (choice i belongs to token i / K; within an expert the tokens stay ascending, as in the loop).
        var (ascending, permutation) = experts.sort(dim: 1);
        var choiceWeights = weights.gather(1, permutation);
        var (sortedExperts, order) = ascending.reshape(-1).sort(dim: 0, stable: true);
        var positionOfChoice = torch.empty_like(order)
            .scatter_(0, order, torch.arange(order.shape[0], device: order.device));
        // Group ends by binary search in the sorted ids: bincount would read the ids' range back to the host.
        var groupEnds = torch.searchsorted(sortedExperts,
            torch.arange(1, block.NumExperts + 1, device: order.device), out_int32: true);

        var sortedTokens = tokens.index_select(0, order.div(topK, rounding_mode: RoundingMode.floor));
        var (gate, up, down) = StackedWeights(block);
        var sortedOutput = (Tensor)Compiled.Value.invoke("grouped_swiglu", sortedTokens, gate, up, down, groupEnds)!;

        var weighted = (sortedOutput.index_select(0, positionOfChoice) * choiceWeights.reshape(-1, 1))
            .view(count, topK, hidden);
        var mixed = weighted.select(1, 0);
        for (int k = 1; k < topK; k++) mixed = mixed + weighted.select(1, k);
        return mixed.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The N experts' projection weights stacked ([N, I, h], [N, I, h], [N, h, I]; expert 0 = the original MLP). When
    /// no gradient reaches them (the experts frozen, as in stage 2, or grad mode off) that is the block's shared stack,
    /// read in place. Otherwise torch.stack copies the parameters so that each expert's slice of the gradient reaches
    /// its own parameter (a frozen one gets none): N·3·h·I elements of memory traffic per forward.
    /// </summary>
    static (Tensor Gate, Tensor Up, Tensor Down) StackedWeights(MoeBlock block)
    {
        var experts = Enumerable.Range(0, block.NumExperts).Select(block.Expert).ToList();
        Tensor Weight(LlamaMLP expert, string projection) => ((Linear)expert.Projection(projection)).weight!;
        var shared = block.StackedWeights;
        bool inPlace = shared is not null && !(torch.is_grad_enabled() &&
            experts.Any(expert => LlamaMLP.ProjectionNames.Any(name => Weight(expert, name).requires_grad)));
        Tensor Stack(string projection) => inPlace
            ? shared![projection]
            : torch.stack(experts.Select(expert => Weight(expert, projection)).ToArray());
        return (Stack("gate_proj"), Stack("up_proj"), Stack("down_proj"));
    }
}
