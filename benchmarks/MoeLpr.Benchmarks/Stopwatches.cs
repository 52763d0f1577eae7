using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>
/// The plain harness: <c>warmup</c> untimed runs, then <c>repetitions</c> timed runs, each synchronised with the
/// device so that asynchronous CUDA kernels are counted. Medians resist the noise of a shared machine better than
/// means; min and max are kept to show the spread. A full GC between samples keeps .NET finalisation out of them.
/// </summary>
public static class Stopwatches
{
    public static TimingStats Measure(Device device, int warmup, int repetitions, Action run)
    {
        for (int i = 0; i < warmup; i++) { run(); Synchronize(device); }
        var samples = new double[repetitions];
        for (int i = 0; i < repetitions; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Synchronize(device);
            var watch = Stopwatch.StartNew();
            run();
            Synchronize(device);
            samples[i] = watch.Elapsed.TotalSeconds;
        }
        return TimingStats.From(samples, warmup);
    }

    public static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
    }
}
