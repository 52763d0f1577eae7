using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>
/// The reference peak: square n×n matmuls in the benchmark dtype on the benchmark device, 2·n³ FLOPs each.
/// </summary>
public sealed record MatmulPeakResult(int Size, string DType, int MatmulsPerSample, TimingStats Timing,
    double FlopsPerSecond)
{
    public static MatmulPeakResult Measure(Device device, ScalarType dtype, int size, int matmulsPerSample, int warmup,
        int repetitions)
    {
        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(1);
        var a = torch.randn([size, size], dtype: ScalarType.Float32, generator: generator).to(dtype, device);
        var b = torch.randn([size, size], dtype: ScalarType.Float32, generator: generator).to(dtype, device);
        var timing = Stopwatches.Measure(device, warmup, repetitions, () =>
        {
            for (int i = 0; i < matmulsPerSample; i++) { using var product = a.mm(b); }
        });
        var flops = 2.0 * size * size * (double)size * matmulsPerSample;
        return new MatmulPeakResult(size, dtype.ToString(), matmulsPerSample, timing, flops / timing.MedianSeconds);
    }
}
