using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>
/// An MoE block's expert weights stored stacked: one [N, out, in] tensor per MLP projection, and every expert's
/// <c>Linear.weight</c> a parameter viewing its own slice (FSDP's flat parameters do the same). The grouped GEMM reads
/// the stack in place; without it every forward copies the N experts' weights into a new stack (3·N·h·I elements,
/// 406 MB per layer at the paper's size), which the backward pass then keeps alive.
/// </summary>
/// <remarks>
/// Everything else goes on using the per-expert parameters: the optimizer, checkpoints, adapters, freezing. Their
/// in-place updates (optimizer steps, checkpoint loads) land in the stack. Replacing a parameter object instead
/// (<c>Module.to</c> onto another device or dtype, assigning a weight) ends the sharing for that block;
/// <see cref="IsIntact"/> notices, and <see cref="MoeBlock"/> shares again after every move.
/// </remarks>
internal sealed class StackedExpertWeights : IDisposable
{
    readonly Dictionary<string, Tensor> stacks;
    readonly Parameter[] views;   // expert-major, in LlamaMLP.ProjectionNames order

    StackedExpertWeights(Dictionary<string, Tensor> stacks, Parameter[] views)
    {
        this.stacks = stacks;
        this.views = views;
    }

    /// <summary>The stacked weights of <paramref name="projection"/>, [N, out, in], expert 0 first.</summary>
    public Tensor this[string projection] => stacks[projection];

    /// <summary>
    /// Moves <paramref name="block"/>'s expert weights into stacks and points each expert's weight at its slice, the
    /// values, <c>requires_grad</c> and gradients unchanged. Null when an adapter wraps a projection, or when the
    /// experts' weights differ in dtype or device.
    /// </summary>
    public static StackedExpertWeights? Share(MoeBlock block)
    {
        var names = LlamaMLP.ProjectionNames;
        var linears = new Linear[block.NumExperts, names.Count];
        for (int e = 0; e < block.NumExperts; e++)
            for (int p = 0; p < names.Count; p++)
            {
                if (block.Expert(e).Projection(names[p]) is not Linear linear) return null;
                linears[e, p] = linear;
            }
        if (linears.Cast<Linear>().Select(l => (l.weight!.dtype, l.weight.device.ToString())).Distinct().Count() > 1)
            return null;

        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var stacks = new Dictionary<string, Tensor>();
        var views = new Parameter[linears.Length];
        for (int p = 0; p < names.Count; p++)
        {
            var stack = torch.stack(Enumerable.Range(0, block.NumExperts).Select(e => linears[e, p].weight!).ToArray());
            for (int e = 0; e < block.NumExperts; e++)
            {
                var old = linears[e, p].weight!;
                var view = new Parameter(stack[e].detach(), old.requires_grad);
                if (old.grad is { } grad) view.grad = grad.clone();
                linears[e, p].weight = view;   // disposes the old parameter
                views[e * names.Count + p] = view;
            }
            stacks[names[p]] = stack.DetachFromDisposeScope();
        }
        return new StackedExpertWeights(stacks, views);
    }

    /// <summary>Whether every expert projection of <paramref name="block"/> still holds the view made for it.</summary>
    public bool IsIntact(MoeBlock block)
    {
        int i = 0;
        for (int e = 0; e < block.NumExperts; e++)
            foreach (var name in LlamaMLP.ProjectionNames)
            {
                var projection = block.Expert(e).Projection(name);
                if (projection is not Linear linear || !ReferenceEquals(linear.weight, views[i++])) return false;
            }
        return true;
    }

    public void Dispose()
    {
        foreach (var stack in stacks.Values) stack.Dispose();
    }
}
