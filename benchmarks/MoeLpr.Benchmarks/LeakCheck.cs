using System.Diagnostics;
using MoeLpr.Devices;
using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>Memory and live-tensor counts after a number of training steps (after a full GC).</summary>
public sealed record LeakSample(int Step, long RssBytes, long LiveTensorsOnThread, long CreatedInScope,
    long DisposedInScope, long CreatedOutsideScope);

public sealed record LeakResult(string Config, int Stage, long TokensPerBatch, double Seconds,
                                IReadOnlyList<LeakSample> Samples, long RssGrowthBytes, long LiveTensorGrowth);

/// <summary>
/// Runs stage-1 training steps on a small upcycled model and samples RSS and
/// <c>DisposeScopeManager.Statistics</c> at the checkpoints: a leak shows as growth between step 100 and the end.
/// It runs with one torch thread (<see cref="SmallTrainingRun.OnOneTorchThread"/>).
/// </summary>
public static class LeakCheck
{
    public static LeakResult Run(ModelConfig config, MoeConfig moe, int batch, int seqLen, int steps, Device device,
        ScalarType dtype, DeviceOptions kernels) =>
        SmallTrainingRun.OnOneTorchThread(() => Measure(config, moe, batch, seqLen, steps, device, dtype, kernels));

    static LeakResult Measure(ModelConfig config, MoeConfig moe, int batch, int seqLen, int steps, Device device,
        ScalarType dtype, DeviceOptions kernels)
    {
        using var run = SmallTrainingRun.Create(config, moe, stage: 1, batch, seqLen, device, dtype, kernels,
            seeds: (17, 2, 9));

        var checkpoints = new SortedSet<int> { 100, steps / 2, steps };
        var samples = new List<LeakSample>();
        DisposeScopeManager.Statistics.Reset();
        var watch = Stopwatch.StartNew();
        for (int i = 1; i <= steps; i++)
        {
            run.Step.Run(run.Batch);
            if (!checkpoints.Contains(i)) continue;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var stats = DisposeScopeManager.Statistics;
            samples.Add(new LeakSample(i, MemoryProbe.ResidentBytes(), stats.ThreadTotalLiveCount,
                                       stats.CreatedInScopeCount, stats.DisposedInScopeCount,
                                       stats.CreatedOutsideScopeCount));
        }
        var name = $"hidden {config.HiddenSize}, intermediate {config.IntermediateSize}, " +
                   $"{config.NumHiddenLayers} layers, vocab {config.VocabSize}, batch {batch}×{seqLen}";
        return new LeakResult(name, 1, (long)batch * seqLen, watch.Elapsed.TotalSeconds, samples,
                              samples[^1].RssBytes - samples[0].RssBytes,
                              samples[^1].LiveTensorsOnThread - samples[0].LiveTensorsOnThread);
    }
}
