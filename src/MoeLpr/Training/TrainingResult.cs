namespace MoeLpr.Training;

/// <summary>How a <see cref="Trainer.Train"/> call ended.</summary>
/// <param name="Completed">False when it was cancelled (a checkpoint of the last step was written).</param>
/// <param name="LastMetrics">The last logged metrics line, null if nothing was logged.</param>
public sealed record TrainingResult(int GlobalStep, int PlannedSteps, bool Completed, string OutputDir, TrainingMetrics? LastMetrics);
