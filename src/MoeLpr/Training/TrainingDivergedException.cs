namespace MoeLpr.Training;

/// <summary>A loss term or the gradient norm became NaN or infinite; training stopped before the update was applied.</summary>
public sealed class TrainingDivergedException(string message) : InvalidOperationException(message)
{
}
