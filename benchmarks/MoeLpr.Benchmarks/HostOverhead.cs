using MoeLpr.Devices;
using MoeLpr.Model;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>One stage's step time on the tiny model, per step.</summary>
public sealed record HostStepTime(int Stage, double MedianMicroseconds, double MinMicroseconds,
    double MaxMicroseconds, double CpuMedianMicroseconds);

public sealed record HostOverheadResult(string Config, int StepsPerSample, string Attention, string Dispatch,
    IReadOnlyList<HostStepTime> Stages);

/// <summary>
/// Stage-1 and stage-2 training steps of a model so small that libtorch's kernels cost next to nothing: what is left
/// is the cost of issuing each operation (TorchSharp, dispatch, autograd, dispose scopes). That cost paces a GPU step
/// at the benchmark's size, where a step's CPU time equalled its wall time on an H100, so this section follows the
/// changes that issue fewer operations (multi-tensor optimizer, fused attention, fewer MoE and loss kernels) on any
/// machine. One torch thread (<see cref="SmallTrainingRun.OnOneTorchThread"/>).
/// </summary>
public static class HostOverhead
{
    const int StepsPerSample = 300;

    static readonly ModelConfig Tiny = new()
    {
        ModelType = "llama", VocabSize = 64, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 4,
        NumAttentionHeads = 4, NumKeyValueHeads = 4, RmsNormEps = 1e-6, RopeTheta = 10000, TieWordEmbeddings = false,
    };

    public static HostOverheadResult Run(MoeConfig moe, Device device, ScalarType dtype, DeviceOptions kernels,
        int repetitions)
    {
        var measured = SmallTrainingRun.OnOneTorchThread(() => new[] { 1, 2 }
            .Select(stage => Measure(moe, stage, device, dtype, kernels, repetitions)).ToList());
        return new HostOverheadResult(
            $"hidden {Tiny.HiddenSize}, {Tiny.NumHiddenLayers} layers, vocab {Tiny.VocabSize}, 2 × 16 tokens, " +
            $"{moe.NumExperts} experts top-{moe.TopK}", StepsPerSample,
            LlamaAttention.Resolve(kernels.Attention, device.type).ToString().ToLowerInvariant(),
            measured[0].Dispatch, measured.Select(m => m.Time).ToList());
    }

    static (HostStepTime Time, string Dispatch) Measure(MoeConfig moe, int stage, Device device, ScalarType dtype,
        DeviceOptions kernels, int repetitions)
    {
        using var run = SmallTrainingRun.Create(Tiny, moe, stage, batch: 2, seqLen: 16, device, dtype, kernels,
            seeds: (1, 3, 4));
        var timing = Stopwatches.Measure(device, warmup: 1, repetitions, () =>
        {
            for (int i = 0; i < StepsPerSample; i++) run.Step.Run(run.Batch);
        });
        double PerStep(double seconds) => seconds * 1e6 / StepsPerSample;
        return (new HostStepTime(stage, PerStep(timing.MedianSeconds), PerStep(timing.MinSeconds),
                PerStep(timing.MaxSeconds), PerStep(timing.CpuMedianSeconds)),
            MoeBlock.ExpertDispatchOf(run.Model, device.type)!);
    }
}
