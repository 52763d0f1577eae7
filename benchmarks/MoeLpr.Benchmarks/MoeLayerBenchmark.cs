using MoeLpr.Model;
using MoeLpr.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>One MoE block (N experts, top-K) against the dense MLP it was upcycled from, on the same tokens.</summary>
public sealed record MoeLayerResult(
    long Tokens, int Hidden, int Intermediate, int NumExperts, int TopK, long[] TokensPerExpert, string Dispatch,
    TimingStats DenseForward, TimingStats MoeForward, double ForwardRatio,
    TimingStats DenseForwardBackward, TimingStats MoeForwardBackward, double ForwardBackwardRatio,
    TimingStats DenseFrozenForwardBackward, TimingStats MoeStage1ForwardBackward, double Stage1Ratio,
    TimingStats MoeStage2ForwardBackward, double Stage2Ratio, double DenseForwardFlopsPerSecond);

public static class MoeLayerBenchmark
{
    /// <summary>
    /// Forward runs under no_grad. Forward+backward: "all trainable" = every weight and the input need gradients
    /// (the like-for-like ratio); "stage 1" = expert 0 frozen; "stage 2" = only the router trainable; both with the
    /// input needing a gradient (as in every layer above the first), compared with a frozen dense MLP.
    /// Dense and MoE samples alternate; each ratio is the median of the per-pair ratios.
    /// </summary>
    public static MoeLayerResult Run(ModelConfig config, MoeConfig moe, long batch, long seqLen, Device device,
        ScalarType dtype, ExpertDispatch dispatch, int warmup, int repetitions)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(7);
        var dense = new LlamaMLP(config.HiddenSize, config.IntermediateSize, dtype);
        dense.to(device);
        var copies = Enumerable.Range(1, moe.NumExperts - 1).Select(_ => dense.DeepCopy()).ToList();
        var block = new MoeBlock(dense, copies, moe.TopK) { Dispatch = dispatch };
        using (torch.no_grad()) nn.init.xavier_normal_(block.RouterWeight);

        using var generator = new Generator(11);
        var x = torch.randn([batch, seqLen, config.HiddenSize], dtype: ScalarType.Float32, generator: generator)
            .to(dtype, device);
        var gradOut = torch.randn([batch, seqLen, config.HiddenSize], dtype: ScalarType.Float32, generator: generator)
            .to(dtype, device);

        long[] perExpert;
        using (torch.no_grad())
        using (var probe = torch.NewDisposeScope())
        {
            var chosen = MoeBlock.Route(block.forward(x).RouterLogits, moe.TopK).Experts.reshape(-1);
            perExpert = chosen.bincount(null, minlength: moe.NumExperts).cpu().data<long>().ToArray();
        }

        Action Forward(Func<Tensor, Tensor> f) => () =>
        {
            using var s = torch.NewDisposeScope();
            using var _ = torch.no_grad();
            f(x);
        };
        Action ForwardBackward(nn.Module module, Func<Tensor, Tensor> f) => () =>
        {
            using var s = torch.NewDisposeScope();
            var input = x.detach().requires_grad_(true);
            torch.autograd.backward([f(input)], [gradOut]);
            module.zero_grad();
        };
        void Trainable(Func<string, bool> isTrainable)
        {
            foreach (var (name, p) in block.named_parameters()) p.requires_grad = isTrainable(name);
        }
        Func<Tensor, Tensor> denseMlp = t => dense.forward(t), moeMlp = t => block.forward(t).HiddenStates;

        var (denseForward, moeForward, forwardRatio) =
            Stopwatches.MeasurePair(device, warmup, repetitions, Forward(denseMlp), Forward(moeMlp));
        Trainable(_ => true);
        var (denseForwardBackward, moeForwardBackward, forwardBackwardRatio) =
            Stopwatches.MeasurePair(device, warmup, repetitions, ForwardBackward(dense, denseMlp),
                ForwardBackward(block, moeMlp));
        Trainable(new Stage1Policy(moe).IsTrainable);
        var (denseFrozen, stage1, stage1Ratio) =
            Stopwatches.MeasurePair(device, warmup, repetitions, ForwardBackward(dense, denseMlp),
                ForwardBackward(block, moeMlp));
        Trainable(new Stage2Policy(moe).IsTrainable);
        var (_, stage2, stage2Ratio) =
            Stopwatches.MeasurePair(device, warmup, repetitions, ForwardBackward(dense, denseMlp),
                ForwardBackward(block, moeMlp));

        var tokens = batch * seqLen;
        var ran = MoeBlock.ExpertDispatchOf(block, x.device_type)!;
        return new MoeLayerResult(tokens, config.HiddenSize, config.IntermediateSize, moe.NumExperts, moe.TopK,
            perExpert, ran, denseForward, moeForward, forwardRatio, denseForwardBackward, moeForwardBackward,
            forwardBackwardRatio, denseFrozen, stage1, stage1Ratio, stage2, stage2Ratio,
            FlopCounts.MlpForward(config.HiddenSize, config.IntermediateSize, tokens) / denseForward.MedianSeconds);
    }
}
