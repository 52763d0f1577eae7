namespace MoeLpr.Training.Pretraining;

/// <summary>How a pretraining run ended: the trainer's result, the model size, tokens seen and wall time.</summary>
public sealed record PretrainingResult(TrainingResult Training, long Parameters, long TokensSeen, TimeSpan WallTime);
