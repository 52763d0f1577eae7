using System.Globalization;
using System.Text;

namespace MoeLpr.Training;

/// <summary>
/// Writes one console line per logging step: a progress bar, step/total, the losses, lr, grad norm, speed, ETA.
/// </summary>
internal sealed class ProgressReporter(TextWriter output, int plannedSteps)
{
    const int BarWidth = 24;

    public void Report(TrainingMetrics m, TimeSpan? eta)
    {
        int filled = (int)Math.Round(BarWidth * (double)m.Step / plannedSteps);
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"[{new string('#', filled)}{new string('.', BarWidth - filled)}] ");
        line.Append(CultureInfo.InvariantCulture,
            $"step {m.Step}/{plannedSteps} epoch {m.Epoch:0.00} loss {m.Loss:0.0000} lm {m.LmLoss:0.0000}");
        foreach (var (name, part) in m.LossParts) // aux_loss → "aux 0.1234"
            line.Append(CultureInfo.InvariantCulture,
                $" {(name.EndsWith("_loss", StringComparison.Ordinal) ? name[..^5] : name)} {part:0.0000}");
        line.Append(CultureInfo.InvariantCulture,
            $" lr {m.LearningRate:0.00e+00} gnorm {m.GradNorm:0.000} {m.TokensPerSecond:0} tok/s");
        if (m.OldLanguageExpert0Probability is { } p0)
            line.Append(CultureInfo.InvariantCulture, $" old→e0 {p0.Average():0.000}");
        line.Append($" elapsed {Format(TimeSpan.FromSeconds(m.ElapsedSeconds))}");
        if (eta is TimeSpan left) line.Append($" ETA {Format(left)}");
        output.WriteLine(line.ToString());
    }

    static string Format(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}" : $"{t.Minutes:00}:{t.Seconds:00}";
}
