using MoeLpr.Devices;
using MoeLpr.Model;
using MoeLpr.Upcycling;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>Tokens/s of one whole-model workload, its FLOP rate against the matmul peak, and its peak memory.</summary>
public sealed record ThroughputResult(
    string Workload, string Description, long TokensPerBatch, TimingStats Timing, double TokensPerSecond,
    long ActiveParams, long TrainableActiveParams, double FlopsPerBatch, double ExecutedFlopsPerBatch,
    double AchievedFlopsPerSecond, double FractionOfMatmulPeak, double ExecutedFractionOfMatmulPeak,
    long PeakRssBytes, bool PeakRssIsPhaseLocal, int? FrozenParametersWithGradient, float? LastLoss);

public static class ThroughputBenchmark
{
    /// <summary>
    /// Dense forward, then upcycles <paramref name="model"/> in place and measures MoE forward, stage 1 and stage 2
    /// training, handing each result to <paramref name="onResult"/> as soon as it is measured. Leaves the model
    /// upcycled (the profile reuses it). With <paramref name="cudaGraphs"/> the training steps replay their forward and
    /// backward passes from CUDA graphs.
    /// </summary>
    public static void Run(LlamaForCausalLM model, MoeConfig moe, DeviceOptions kernels, TrainingBatch batch,
        Device device, double matmulPeak, int warmup, int repetitions, bool cudaGraphs,
        Action<ThroughputResult> onResult)
    {
        var config = model.Config;
        long b = batch.InputIds.shape[0], t = batch.InputIds.shape[1];
        void Add(ThroughputResult r) => onResult(r);

        Add(Forward("dense forward", "no_grad forward of the dense model (logits)", model, batch, device, matmulPeak,
                    warmup, repetitions, FlopCounts.For(config, 1, 1, moe: false, b, t, FlopCounts.Trainable.None)));

        Upcycler.Upcycle(model, moe, BenchmarkModels.UpcycleSeed);
        kernels.ChooseKernels(model);
        var moeCounts = FlopCounts.For(config, moe.NumExperts, moe.TopK, moe: true, b, t, FlopCounts.Trainable.None);
        Add(Forward("moe forward", $"no_grad forward, {moe.NumExperts} experts top-{moe.TopK}", model, batch, device,
            matmulPeak, warmup, repetitions, moeCounts));

        foreach (var stage in new[] { 1, 2 })
        {
            var counts = FlopCounts.For(config, moe.NumExperts, moe.TopK, moe: true, b, t,
                stage == 1 ? FlopCounts.Trainable.Stage1RoutersAndNewExperts : FlopCounts.Trainable.Stage2RoutersOnly);
            using var step = StageStep.Create(model, moe, stage, device, cudaGraphs);
            var resetOk = MemoryProbe.ResetPeak();
            float loss = 0;
            var timing = Stopwatches.Measure(device, warmup, repetitions, () => loss = step.Run(batch));
            var description = StageStep.Describe(stage) +
                (cudaGraphs ? "; forward+backward replayed as a CUDA graph" : "");
            Add(Result($"stage {stage} train", description, batch.Tokens, timing, counts,
                       counts.TrainingModel, counts.TrainingExecuted, matmulPeak, resetOk,
                       step.FrozenParametersWithGradient(), loss));
            model.zero_grad();
        }
    }

    static ThroughputResult Forward(string name, string description, LlamaForCausalLM model, TrainingBatch batch,
                                    Device device, double matmulPeak, int warmup, int repetitions, FlopCounts counts)
    {
        model.eval();
        var resetOk = MemoryProbe.ResetPeak();
        var timing = Stopwatches.Measure(device, warmup, repetitions, () =>
        {
            using var scope = torch.NewDisposeScope();
            using var _ = torch.no_grad();
            model.forward(new CausalLMInput(batch.InputIds));
        });
        return Result(name, description, batch.Tokens, timing, counts, counts.Forward, counts.Forward, matmulPeak,
            resetOk, null, null);
    }

    static ThroughputResult Result(string name, string description, long tokens, TimingStats timing, FlopCounts counts,
                                   double flops, double executedFlops, double matmulPeak, bool peakIsLocal,
                                   int? frozenWithGrad, float? loss)
    {
        var achieved = flops / timing.MedianSeconds;
        return new ThroughputResult(name, description, tokens, timing, tokens / timing.MedianSeconds,
            counts.ActiveParams, counts.TrainableActiveParams, flops, executedFlops, achieved, achieved / matmulPeak,
            executedFlops / timing.MedianSeconds / matmulPeak, MemoryProbe.PeakResidentBytes(), peakIsLocal,
            frozenWithGrad, loss);
    }
}
