using System.Runtime.InteropServices;
using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>What one stage-2 forward of an MoE block keeps in memory until its backward pass.</summary>
public sealed record HeldMemoryResult(long Tokens, string Dispatch, long ExpertWeightBytes, long HeldBytes,
    long[] SampleBytes);

/// <summary>
/// Host memory one stage-2 forward (router trainable, experts frozen, the input needing a gradient as in every layer
/// above the first) holds for its backward pass: RSS with the graph alive minus RSS before, median of three after a
/// warm-up. Set beside the experts' own weights it shows whether the dispatch keeps a copy of them, as the grouped one
/// did (a torch.stack per forward) until the block stored its experts stacked. CPU only: on CUDA TorchSharp 0.107
/// reports no allocator statistics.
/// </summary>
public static class HeldMemory
{
    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int MallOpt(int parameter, int value);

    const int MmapThreshold = -3;   // glibc's M_MMAP_THRESHOLD

    public static HeldMemoryResult Measure(ModelConfig config, MoeConfig moe, long tokens, ExpertDispatch dispatch)
    {
        // Every allocation of 1 MiB or more mapped on its own and unmapped when freed: otherwise glibc moves its
        // threshold up to each freed size (up to 32 MiB) and serves the next tensors from heap memory the process
        // already holds, hiding them from RSS.
        MallOpt(MmapThreshold, 1 << 20);
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(7);
        var experts = Enumerable.Range(0, moe.NumExperts)
            .Select(_ => new LlamaMLP(config.HiddenSize, config.IntermediateSize)).ToList();
        using var block = new MoeBlock(experts[0], experts.Skip(1).ToList(), moe.TopK) { Dispatch = dispatch };
        foreach (var p in block.parameters()) p.requires_grad = false;
        block.RouterWeight.requires_grad = true;
        var x = torch.randn(1, tokens, config.HiddenSize);

        var samples = new List<long>();
        for (int i = 0; i < 4; i++)
        {
            using var step = torch.NewDisposeScope();
            var input = x.detach().requires_grad_(true);
            long before = MemoryProbe.ResidentBytes();
            var output = block.forward(input).HiddenStates;
            samples.Add(MemoryProbe.ResidentBytes() - before);
            output.sum().backward();
        }
        var timed = samples.Skip(1).Order().ToArray();
        long weightBytes = 3L * moe.NumExperts * config.HiddenSize * config.IntermediateSize * sizeof(float);
        var ran = block.UsesGroupedExperts(x.reshape(-1, config.HiddenSize)) ? "grouped" : "loop";
        return new HeldMemoryResult(tokens, ran, weightBytes, timed[timed.Length / 2], samples.ToArray());
    }
}
