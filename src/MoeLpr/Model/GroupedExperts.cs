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
    // grouped_swiglu_backward issues the products autograd forms for _grouped_mm, with the same layouts (the input
    // gradient grad·W, the weight gradient gradᵀ·input per group), and silu's own backward kernel.
    const string Script = """
        def grouped_swiglu_saving(x: Tensor, gate: Tensor, up: Tensor, down: Tensor, ends: Tensor) -> List[Tensor]:
            g = torch._grouped_mm(x, gate.transpose(1, 2), ends)
            u = torch._grouped_mm(x, up.transpose(1, 2), ends)
            return [torch._grouped_mm(torch.silu(g) * u, down.transpose(1, 2), ends), g, u]

        def grouped_swiglu(x: Tensor, gate: Tensor, up: Tensor, down: Tensor, ends: Tensor) -> Tensor:
            return grouped_swiglu_saving(x, gate, up, down, ends)[0]

        def grouped_swiglu_backward(dy: Tensor, x: Tensor, g: Tensor, u: Tensor, gate: Tensor, up: Tensor,
                                    down: Tensor, ends: Tensor, input_gradient: bool) -> List[Tensor]:
            silu = torch.silu(g)
            d_down = torch._grouped_mm(dy.transpose(0, 1), silu * u, ends)
            d_activation = torch._grouped_mm(dy, down, ends)
            du = d_activation * silu
            dg = torch.silu_backward(d_activation * u, g)
            gradients = [torch._grouped_mm(dg.transpose(0, 1), x, ends),
                         torch._grouped_mm(du.transpose(0, 1), x, ends), d_down]
            if input_gradient:
                gradients.append(torch._grouped_mm(dg, gate, ends) + torch._grouped_mm(du, up, ends))
            return gradients

        """;

    static readonly Lazy<torch.jit.CompilationUnit> Compiled = new(() => torch.jit.compile(Script));

    /// <summary>
    /// Whether <paramref name="block"/> can run grouped on tokens of <paramref name="dtype"/>: _grouped_mm has
    /// float32, bfloat16 and float16 kernels, and it needs every expert's projections as plain weights (no adapter).
    /// </summary>
    public static bool Supports(MoeBlock block, ScalarType dtype) =>
        dtype is ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16 &&
        Enumerable.Range(0, block.NumExperts).All(e =>
            LlamaMLP.ProjectionNames.All(name => block.Expert(e).Projection(name) is Linear));

    /// <summary>
    /// Σ_k w_k · expert_k(x) for every token, the K terms in ascending expert order summed by one reduction (a gather
    /// rather than atomics), so the result is deterministic on every device. On the CPU in float32 with one thread it
    /// is the loop's result bit for bit (with more, MKL may split a small group's products otherwise than the loop's
    /// matmul: a rounding apart); where the reduction adds in another order, or (bfloat16) adds in float32 and
    /// rounds once where the loop's scatter-adds round after each term, K ≥ 3 can differ from the loop in the last
    /// bit (K ≤ 2 cannot: one addition, one rounding).
    /// </summary>
    /// <param name="tokens">[T, h].</param>
    /// <param name="experts">[T, K] chosen experts, any order.</param>
    /// <param name="weights">[T, K] their mixing weights, in the tokens' dtype.</param>
    public static Tensor Mix(MoeBlock block, Tensor tokens, Tensor experts, Tensor weights)
    {
        using var scope = torch.NewDisposeScope();
        long count = tokens.shape[0], hidden = tokens.shape[1];
        int topK = (int)experts.shape[1];

        // Each token's K choices in ascending expert order, so that the sum below does not depend on the order the
        // router lists them in; for K ≤ 2 the order cannot change the sum (a + b is b + a) and the sort is skipped.
        var (ascending, choiceWeights) = topK <= 2 ? (experts, weights) : AscendingChoices(experts, weights);
        var choices = ChoicesByExpert.Sort(ascending, block.NumExperts);
        var sortedOutput = SwiGLU(block, tokens.index_select(0, choices.TokenOfChoice), choices.GroupEnds());

        // Back to choice order by writing each row where its choice was (order is a permutation: no two rows collide).
        var outputOfChoice = torch.empty_like(sortedOutput).index_copy(0, choices.Order, sortedOutput);
        // One reduction over K, whose backward pass only broadcasts the gradient, where adding K selected slices
        // would make it zero-fill and copy a [T, K, h] gradient per slice and add them up.
        var weighted = (outputOfChoice * choiceWeights.reshape(-1, 1)).view(count, topK, hidden);
        return weighted.sum(1).MoveToOuterDisposeScope();
    }

    static (Tensor Experts, Tensor Weights) AscendingChoices(Tensor experts, Tensor weights)
    {
        var (ascending, permutation) = experts.sort(dim: 1);
        return (ascending, weights.gather(1, permutation));
    }

    /// <summary>
    /// The experts' SwiGLU on their groups of sorted tokens, over their weights stacked ([N, I, h], [N, I, h],
    /// [N, h, I]; expert 0 = the original MLP), by the cheapest route that keeps every gradient. Where the block stores
    /// its experts stacked (<see cref="MoeBlock.StackedWeights"/>) the stacks are read in place: directly when no
    /// gradient reaches the experts (stage 2, no_grad), through <see cref="SharedStackSwiGLU"/> when some train
    /// (stage 1). Otherwise torch.stack copies the parameters (N·3·h·I elements per forward, kept for the backward
    /// pass), and autograd hands each expert its slice of the gradient.
    /// </summary>
    static Tensor SwiGLU(MoeBlock block, Tensor sortedTokens, Tensor groupEnds)
    {
        SharedStackSwiGLU.ReleaseGradientsReturnedOutsideAnyScope();
        var weights = ExpertWeights(block);
        var shared = block.StackedWeights;
        Tensor Run(Tensor gate, Tensor up, Tensor down) =>
            (Tensor)Compiled.Value.invoke("grouped_swiglu", sortedTokens, gate, up, down, groupEnds)!;
        Tensor Stack(int projection) => torch.stack(Enumerable.Range(0, block.NumExperts)
            .Select(e => weights[e * LlamaMLP.ProjectionNames.Count + projection]).ToArray());

        if (shared is null) return Run(Stack(0), Stack(1), Stack(2));
        if (!(torch.is_grad_enabled() && weights.Any(w => w.requires_grad)))
            return Run(shared["gate_proj"], shared["up_proj"], shared["down_proj"]);
        return SharedStackSwiGLU.apply([sortedTokens, groupEnds, shared["gate_proj"], shared["up_proj"],
            shared["down_proj"], .. weights]);
    }

    /// <summary>Every expert's gate, up and down weight, expert-major.</summary>
    static Parameter[] ExpertWeights(MoeBlock block) => Enumerable.Range(0, block.NumExperts)
        .SelectMany(e => LlamaMLP.ProjectionNames.Select(name => ((Linear)block.Expert(e).Projection(name)).weight!))
        .ToArray();

    /// <summary>
    /// The grouped SwiGLU over a block's shared stacks, differentiable in the experts' own parameters. Autograd cannot
    /// know that each parameter is a slice of a stack, so this function computes the stacks' gradients itself (the
    /// products autograd would form) and hands each trainable expert its slice (a frozen one gets none).
    /// </summary>
    /// <remarks>
    /// Arguments: the sorted tokens, the group ends, the gate, up and down stacks, then every expert weight
    /// (expert-major) so that the gradients reach them. It keeps the tokens and the gate and up projections for the
    /// backward pass, where autograd would also keep silu(g) and the activation. The gradients the backward pass
    /// returns stay referenced by their managed handles after libtorch has taken its own: they go to the caller's
    /// dispose scope (the training step's, on the CPU), or, where the backward pass runs on an autograd device thread
    /// outside any scope, they are disposed at that thread's next call, when libtorch has long finished reading them.
    /// </remarks>
    sealed class SharedStackSwiGLU : torch.autograd.SingleTensorFunction<SharedStackSwiGLU>
    {
        [ThreadStatic] static List<Tensor>? returnedOutsideAnyScope;

        public override string Name => nameof(SharedStackSwiGLU);

        public static void ReleaseGradientsReturnedOutsideAnyScope()
        {
            returnedOutsideAnyScope?.ForEach(gradient => gradient.Dispose());
            returnedOutsideAnyScope?.Clear();
        }

        public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            var (tokens, groupEnds, gate, up, down) =
                ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3], (Tensor)vars[4]);
            var outputs = (Tensor[])Compiled.Value.invoke("grouped_swiglu_saving", tokens, gate, up, down, groupEnds)!;
            ctx.save_for_backward([tokens, outputs[1], outputs[2], gate, up, down, groupEnds]);
            ctx.save_data("input gradient", tokens.requires_grad);
            ctx.save_data("trainable", vars.Skip(5).Select(w => ((Tensor)w).requires_grad).ToArray());
            return outputs[0];
        }

        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor gradOutput)
        {
            ReleaseGradientsReturnedOutsideAnyScope();
            bool callerHasScope = torch.CurrentDisposeScope is not null;
            using var scope = torch.NewDisposeScope();
            var saved = ctx.get_saved_variables();   // tokens, g, u, gate, up, down, group ends
            var inputGradient = (bool)ctx.get_data("input gradient");
            var trainable = (bool[])ctx.get_data("trainable");
            var gradients = (Tensor[])Compiled.Value.invoke("grouped_swiglu_backward",
                [gradOutput, .. saved, inputGradient])!;   // d gate, d up, d down[, d tokens]

            var result = new List<Tensor?> { inputGradient ? gradients[3] : null, null, null, null, null };
            int projections = LlamaMLP.ProjectionNames.Count;
            for (int i = 0; i < trainable.Length; i++)
                result.Add(trainable[i] ? gradients[i % projections][i / projections] : null);
            foreach (var gradient in result.OfType<Tensor>())
                if (callerHasScope) gradient.MoveToOuterDisposeScope();
                else (returnedOutsideAnyScope ??= []).Add(gradient.DetachFromDisposeScope());
            gradOutput.Dispose();   // made for this call; libtorch keeps its own reference
            return result!;
        }
    }
}
