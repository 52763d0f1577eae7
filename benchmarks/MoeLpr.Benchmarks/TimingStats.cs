namespace MoeLpr.Benchmarks;

/// <summary>
/// Samples of one measured operation: wall-clock seconds (summarised by the median) and the process CPU seconds
/// spent in the same intervals (all threads; less sensitive than wall time to being descheduled on a busy machine).
/// </summary>
public sealed record TimingStats(double MedianSeconds, double MinSeconds, double MaxSeconds, double CpuMedianSeconds,
                                 int Warmup, double[] SamplesSeconds, double[] CpuSamplesSeconds)
{
    public static TimingStats From(IReadOnlyList<double> samples, IReadOnlyList<double> cpuSamples, int warmup)
    {
        var sorted = samples.Order().ToArray();
        return new TimingStats(Median(samples), sorted[0], sorted[^1], Median(cpuSamples), warmup, samples.ToArray(),
            cpuSamples.ToArray());
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
