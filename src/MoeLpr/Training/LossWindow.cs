using System.Diagnostics;

namespace MoeLpr.Training;

/// <summary>
/// Sums of the micro-batch losses and tokens since the last metrics line, and how long that took. The total and LM
/// losses are averaged over the micro-batches; each named part over its items (<see cref="LossTerms.PartCounts"/>),
/// so that stage 2's <c>lpr_loss</c> is the mean over the window's old-language (layer, token) pairs, and a window
/// without any logs no <c>lpr_loss</c> rather than 0.
/// </summary>
internal sealed class LossWindow
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly Dictionary<string, (double Sum, double Count)> parts = new(StringComparer.Ordinal);
    int microBatches;
    double total, lm;
    long tokens;

    public void Add(MicroBatchLoss loss)
    {
        microBatches++;
        total += loss.Total;
        lm += loss.LmLoss;
        foreach (var (name, value) in loss.Parts)
        {
            var (sum, count) = parts.GetValueOrDefault(name);
            double items = loss.PartCounts[name];
            parts[name] = (sum + value * items, count + items);
        }
        tokens += loss.Tokens;
    }

    public TrainingMetrics ToMetrics(int step, double epoch, double lr, double gradNorm, double elapsedSeconds,
        RoutingWindow routing) => new()
    {
        Step = step,
        Epoch = epoch,
        Loss = total / microBatches,
        LmLoss = lm / microBatches,
        LossParts = parts.Where(p => p.Value.Count > 0).ToDictionary(p => p.Key, p => p.Value.Sum / p.Value.Count),
        LearningRate = lr,
        GradNorm = gradNorm,
        TokensPerSecond = tokens / Math.Max(clock.Elapsed.TotalSeconds, 1e-9),
        ElapsedSeconds = elapsedSeconds,
        ExpertProbability = routing.ExpertProbability,
        OldLanguageExpert0Probability = routing.OldLanguageExpert0Probability,
        OldLanguageExpert0Selected = routing.OldLanguageExpert0Selected,
    };
}
