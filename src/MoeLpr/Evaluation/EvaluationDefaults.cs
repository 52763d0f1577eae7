namespace MoeLpr.Evaluation;

/// <summary>Defaults the evaluators share, so that <c>eval</c>, <c>routes</c> and <c>tasks</c> agree.</summary>
public static class EvaluationDefaults
{
    /// <summary>
    /// Blocks (or continuations) per forward pass: HuggingFace's <c>per_device_eval_batch_size</c> default.
    /// </summary>
    public const int BatchSize = 8;
}
