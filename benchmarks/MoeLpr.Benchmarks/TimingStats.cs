namespace MoeLpr.Benchmarks;

/// <summary>Wall-clock samples of one measured operation (seconds), summarised by the median.</summary>
public sealed record TimingStats(double MedianSeconds, double MinSeconds, double MaxSeconds, int Warmup, double[] SamplesSeconds)
{
    public static TimingStats From(IReadOnlyList<double> samples, int warmup)
    {
        var sorted = samples.Order().ToArray();
        int n = sorted.Length;
        var median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return new TimingStats(median, sorted[0], sorted[^1], warmup, samples.ToArray());
    }
}
