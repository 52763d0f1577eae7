namespace MoeLpr.Training;

/// <summary>
/// HF <c>get_cosine_schedule_with_warmup</c>: linear warmup from 0, then a half cosine from the peak to 0 over the
/// remaining planned steps. The planned total must be the whole run's, so a resumed run follows the same curve.
/// </summary>
internal static class LearningRateSchedule
{
    /// <summary>The learning rate of optimizer step <paramref name="step"/> (0-based).</summary>
    public static double Cosine(double peak, int step, int totalSteps, int warmupSteps)
    {
        if (step < warmupSteps) return peak * step / Math.Max(1, warmupSteps);
        double progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
        return peak * Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * progress)));
    }
}
