using System.Diagnostics;

namespace MoeLpr.Training;

/// <summary>Sums of the micro-batch losses and tokens since the last metrics line, and how long that took.</summary>
internal sealed class LossWindow
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    int microBatches, auxCount, lprCount;
    double total, lm, aux, lpr;
    long tokens;

    public void Add(double total, double lm, double? aux, double? lpr, long tokens)
    {
        microBatches++;
        this.total += total;
        this.lm += lm;
        if (aux is double a) { this.aux += a; auxCount++; }
        if (lpr is double p) { this.lpr += p; lprCount++; }
        this.tokens += tokens;
    }

    public TrainingMetrics ToMetrics(int step, double epoch, double lr, double gradNorm, double elapsedSeconds, RoutingStatistics routing) => new()
    {
        Step = step,
        Epoch = epoch,
        Loss = total / microBatches,
        LmLoss = lm / microBatches,
        AuxLoss = auxCount > 0 ? aux / auxCount : null,
        LprLoss = lprCount > 0 ? lpr / lprCount : null,
        LearningRate = lr,
        GradNorm = gradNorm,
        TokensPerSecond = tokens / Math.Max(clock.Elapsed.TotalSeconds, 1e-9),
        ElapsedSeconds = elapsedSeconds,
        ExpertProbability = routing.ExpertProbability,
        OldLanguageExpert0Probability = routing.OldLanguageExpert0Probability,
        OldLanguageExpert0Selected = routing.OldLanguageExpert0Selected,
    };
}
