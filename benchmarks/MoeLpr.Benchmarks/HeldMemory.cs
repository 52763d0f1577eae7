using System.Runtime.InteropServices;
using MoeLpr.Model;
using MoeLpr.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>What one forward of an MoE block keeps in memory until its backward pass, in stage 1 and stage 2.</summary>
public sealed record HeldMemoryResult(long Tokens, string Dispatch, long ExpertWeightBytes,
    IReadOnlyList<StageHeldMemory> Stages);

/// <param name="HeldBytes">Median of the timed samples.</param>
/// <param name="SampleBytes">Every sample, the first a warm-up.</param>
public sealed record StageHeldMemory(int Stage, long HeldBytes, long[] SampleBytes);

/// <summary>
/// Host memory one forward holds for its backward pass, in stage 1 (new experts and router trainable) and stage 2
/// (router only), the input needing a gradient as in every layer above the first: RSS with the graph alive minus RSS
/// before, median of three after a warm-up. Set beside the experts' own weights it shows whether the dispatch keeps a
/// copy of them, as the grouped one did (a torch.stack per forward) until the block stored its experts stacked. CPU
/// only: on CUDA TorchSharp 0.107 reports no allocator statistics.
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
        var x = torch.randn(1, tokens, config.HiddenSize);
        var stages = new[] { 1, 2 }.Select(stage =>
        {
            TrainingPolicy policy = stage == 1 ? new Stage1Policy(moe) : new Stage2Policy(moe);
            foreach (var (name, p) in block.named_parameters()) p.requires_grad = policy.IsTrainable(name);
            var samples = Enumerable.Range(0, 4).Select(_ => HeldByOneForward(block, x)).ToArray();
            return new StageHeldMemory(stage, samples.Skip(1).Order().ElementAt(1), samples);
        }).ToList();
        long weightBytes = 3L * moe.NumExperts * config.HiddenSize * config.IntermediateSize * sizeof(float);
        var ran = MoeBlock.ExpertDispatchOf(block, x.device_type)!;
        return new HeldMemoryResult(tokens, ran, weightBytes, stages);
    }

    static long HeldByOneForward(MoeBlock block, Tensor x)
    {
        using var step = torch.NewDisposeScope();
        var input = x.detach().requires_grad_(true);
        long before = MemoryProbe.ResidentBytes();
        var output = block.forward(input).HiddenStates;
        long held = MemoryProbe.ResidentBytes() - before;
        output.sum().backward();
        block.zero_grad();
        return held;
    }
}
