using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>One MoE block (N experts, top-K) against the dense MLP it was upcycled from, on the same tokens.</summary>
public sealed record MoeLayerResult(
    long Tokens, int Hidden, int Intermediate, int NumExperts, int TopK, long[] TokensPerExpert,
    TimingStats DenseForward, TimingStats MoeForward, double ForwardRatio,
    TimingStats DenseForwardBackward, TimingStats MoeForwardBackward, double ForwardBackwardRatio,
    TimingStats DenseFrozenForwardBackward, TimingStats MoeStage1ForwardBackward, TimingStats MoeStage2ForwardBackward,
    double DenseForwardFlopsPerSecond);

public static class MoeLayerBenchmark
{
    /// <summary>
    /// Forward runs under no_grad. Forward+backward: "all trainable" = every weight and the input need gradients
    /// (the like-for-like ratio); "stage 1" = expert 0 frozen; "stage 2" = only the router trainable; both with the
    /// input needing a gradient (as in every layer above the first), compared with a frozen dense MLP.
    /// </summary>
    public static MoeLayerResult Run(ModelConfig config, MoeConfig moe, long batch, long seqLen, Device device, ScalarType dtype, int warmup, int repetitions)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(7);
        var dense = new LlamaMLP(config.HiddenSize, config.IntermediateSize, dtype);
        dense.to(device);
        var copies = Enumerable.Range(1, moe.NumExperts - 1).Select(_ => dense.DeepCopy()).ToList();
        var block = new MoeBlock(dense, copies, moe.TopK);
        using (torch.no_grad()) nn.init.xavier_normal_(block.RouterWeight);

        using var generator = new Generator(11);
        var x = torch.randn([batch, seqLen, config.HiddenSize], dtype: ScalarType.Float32, generator: generator).to(dtype, device);
        var gradOut = torch.randn([batch, seqLen, config.HiddenSize], dtype: ScalarType.Float32, generator: generator).to(dtype, device);

        long[] perExpert;
        using (torch.no_grad())
        using (var probe = torch.NewDisposeScope())
        {
            var chosen = block.forward(x).RouterLogits.topk(moe.TopK, dim: -1).indexes.reshape(-1);
            perExpert = chosen.bincount(null, minlength: moe.NumExperts).cpu().data<long>().ToArray();
        }

        TimingStats Forward(Func<Tensor, Tensor> f) => Stopwatches.Measure(device, warmup, repetitions, () =>
        {
            using var s = torch.NewDisposeScope();
            using var _ = torch.no_grad();
            f(x);
        });
        TimingStats ForwardBackward(nn.Module module, Func<Tensor, Tensor> f) => Stopwatches.Measure(device, warmup, repetitions, () =>
        {
            using var s = torch.NewDisposeScope();
            var input = x.detach().requires_grad_(true);
            torch.autograd.backward([f(input)], [gradOut]);
            module.zero_grad();
        });
        void Trainable(Func<string, bool> isTrainable)
        {
            foreach (var (name, p) in block.named_parameters()) p.requires_grad = isTrainable(name);
        }

        var denseForward = Forward(t => dense.forward(t));
        var moeForward = Forward(t => block.forward(t).HiddenStates);

        Trainable(_ => true);
        var denseForwardBackward = ForwardBackward(dense, t => dense.forward(t));
        var moeForwardBackward = ForwardBackward(block, t => block.forward(t).HiddenStates);

        Trainable(_ => false);
        var denseFrozen = ForwardBackward(dense, t => dense.forward(t));
        Trainable(name => name.Contains("moe_"));
        var stage1 = ForwardBackward(block, t => block.forward(t).HiddenStates);
        Trainable(name => name.Contains("moe_router_embedding"));
        var stage2 = ForwardBackward(block, t => block.forward(t).HiddenStates);

        var tokens = batch * seqLen;
        return new MoeLayerResult(tokens, config.HiddenSize, config.IntermediateSize, moe.NumExperts, moe.TopK, perExpert,
            denseForward, moeForward, moeForward.MedianSeconds / denseForward.MedianSeconds,
            denseForwardBackward, moeForwardBackward, moeForwardBackward.MedianSeconds / denseForwardBackward.MedianSeconds,
            denseFrozen, stage1, stage2,
            FlopCounts.MlpForward(config.HiddenSize, config.IntermediateSize, tokens) / denseForward.MedianSeconds);
    }
}
