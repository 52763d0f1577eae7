using System.Diagnostics;
using MoeLpr.Devices;
using MoeLpr.Model;
using MoeLpr.Upcycling;
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
/// It runs with one torch thread: its tiny ops gain nothing from two, and on a shared machine an OpenMP barrier
/// waiting for a descheduled second thread makes every op orders of magnitude slower.
/// </summary>
public static class LeakCheck
{
    public static LeakResult Run(ModelConfig config, MoeConfig moe, int batch, int seqLen, int steps, Device device,
        ScalarType dtype, DeviceOptions kernels)
    {
        var threads = torch.get_num_threads();
        torch.set_num_threads(1);
        try { return Measure(config, moe, batch, seqLen, steps, device, dtype, kernels); }
        finally { torch.set_num_threads(threads); }
    }

    static LeakResult Measure(ModelConfig config, MoeConfig moe, int batch, int seqLen, int steps, Device device,
        ScalarType dtype, DeviceOptions kernels)
    {
        torch.manual_seed(17);
        using var model = new LlamaForCausalLM(config, dtype);
        model.to(device);
        Upcycler.Upcycle(model, moe, seed: 2);
        kernels.ChooseKernels(model);
        using var data = TrainingBatch.Random(config, batch, seqLen, device, seed: 9);
        using var step = StageStep.Create(model, moe, stage: 1, device);

        var checkpoints = new SortedSet<int> { 100, steps / 2, steps };
        var samples = new List<LeakSample>();
        DisposeScopeManager.Statistics.Reset();
        var watch = Stopwatch.StartNew();
        for (int i = 1; i <= steps; i++)
        {
            step.Run(data);
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
