using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>
/// The plain harness: <c>warmup</c> untimed runs, then <c>repetitions</c> timed runs, each synchronised with the
/// device so that asynchronous CUDA kernels are counted. Medians resist the noise of a shared machine better than
/// means; min and max are kept to show the spread. A full GC before each sample keeps .NET finalisation out of it.
/// </summary>
public static class Stopwatches
{
    public static TimingStats Measure(Device device, int warmup, int repetitions, Action run)
    {
        for (int i = 0; i < warmup; i++) { run(); Synchronize(device); }
        var wall = new double[repetitions];
        var cpu = new double[repetitions];
        for (int i = 0; i < repetitions; i++) (wall[i], cpu[i]) = Once(device, run);
        return TimingStats.From(wall, cpu, warmup);
    }

    /// <summary>
    /// Times <paramref name="a"/> and <paramref name="b"/> alternately (a, b, a, b, …) so that a change in machine
    /// load hits both alike; the ratio b/a is the median of the per-pair ratios.
    /// </summary>
    public static (TimingStats A, TimingStats B, double RatioBToA) MeasurePair(Device device, int warmup,
        int repetitions, Action a, Action b)
    {
        for (int i = 0; i < warmup; i++) { a(); b(); Synchronize(device); }
        var wallA = new double[repetitions]; var cpuA = new double[repetitions];
        var wallB = new double[repetitions]; var cpuB = new double[repetitions];
        for (int i = 0; i < repetitions; i++)
        {
            (wallA[i], cpuA[i]) = Once(device, a);
            (wallB[i], cpuB[i]) = Once(device, b);
        }
        var ratio = TimingStats.Median(wallB.Zip(wallA, (x, y) => x / y));
        return (TimingStats.From(wallA, cpuA, warmup), TimingStats.From(wallB, cpuB, warmup), ratio);
    }

    static (double Wall, double Cpu) Once(Device device, Action run)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Synchronize(device);
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        run();
        Synchronize(device);
        var wall = watch.Elapsed.TotalSeconds;
        process.Refresh();
        return (wall, (process.TotalProcessorTime - cpuBefore).TotalSeconds);
    }

    public static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
    }
}
