using System.Diagnostics;

namespace MoeLpr.Training;

/// <summary>
/// Sums of the micro-batch losses (and of each named part) and tokens since the last metrics line, and how long that
/// took.
/// </summary>
internal sealed class LossWindow
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly Dictionary<string, (double Sum, int Count)> parts = new(StringComparer.Ordinal);
    int microBatches;
    double total, lm;
    long tokens;

    public void Add(MicroBatchLoss loss)
    {
        microBatches++;
        total += loss.Total;
        lm += loss.LmLoss;
        foreach (var (name, value) in loss.Parts)
            parts[name] = parts.TryGetValue(name, out var part) ? (part.Sum + value, part.Count + 1) : (value, 1);
        tokens += loss.Tokens;
    }

    public TrainingMetrics ToMetrics(int step, double epoch, double lr, double gradNorm, double elapsedSeconds,
        RoutingWindow routing) => new()
    {
        Step = step,
        Epoch = epoch,
        Loss = total / microBatches,
        LmLoss = lm / microBatches,
        LossParts = parts.ToDictionary(p => p.Key, p => p.Value.Sum / p.Value.Count),
        LearningRate = lr,
        GradNorm = gradNorm,
        TokensPerSecond = tokens / Math.Max(clock.Elapsed.TotalSeconds, 1e-9),
        ElapsedSeconds = elapsedSeconds,
        ExpertProbability = routing.ExpertProbability,
        OldLanguageExpert0Probability = routing.OldLanguageExpert0Probability,
        OldLanguageExpert0Selected = routing.OldLanguageExpert0Selected,
    };
}
