using static TorchSharp.torch;

namespace MoeLpr.Training;

/// <summary>
/// Optimisation settings of a <see cref="Trainer"/>; defaults are the reference scripts' (HF Trainer defaults where
/// the scripts set nothing): AdamW β 0.9/0.999, eps 1e-8, no weight decay, cosine decay to 0, clipping at 1.0.
/// </summary>
public sealed record TrainerOptions
{
    public double LearningRate { get; init; } = 5e-5;
    /// <summary>Blocks per micro-batch.</summary>
    public int BatchSize { get; init; } = 4;
    /// <summary>Micro-batches per optimizer step.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary>
    /// Passes over the data; a fraction runs that share of an epoch's steps, rounded up (HF's
    /// <c>num_train_epochs</c>, a float).
    /// </summary>
    public double Epochs { get; init; } = 1;
    /// <summary>
    /// Optimizer steps to run; when set it replaces <see cref="Epochs"/> (the data order restarts as needed).
    /// </summary>
    public int? MaxSteps { get; init; }
    public int WarmupSteps { get; init; }
    /// <summary>
    /// Gradient clipping threshold on the global L2 norm; 0 or less turns clipping off (the norm is still reported).
    /// </summary>
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>Checkpoint every this many optimizer steps; 0 = only the final output.</summary>
    public int SaveSteps { get; init; }
    public int LoggingSteps { get; init; } = 10;
    /// <summary>Seeds the block shuffling of every epoch.</summary>
    public long Seed { get; init; } = 42;
    /// <summary>
    /// The EOS (= pad) id whose target positions are left out of the LM loss, as the reference's collator does
    /// (<c>labels[labels == pad_token_id] = -100</c>); null keeps every target. EOS still counts for the router losses.
    /// </summary>
    public int? MaskedLabelTokenId { get; init; }
    public Device? Device { get; init; }
    /// <summary>
    /// Replays each micro-batch's forward and backward pass from a CUDA graph (<see cref="GraphedBackward"/>), for
    /// models small enough that the host issues a step's kernels slower than the GPU runs them. Needs a CUDA device
    /// and grouped experts, and no tensor still alive that was computed from a trainable weight with autograd on:
    /// its AccumulateGrad node would sit on the default stream, and the capture cannot wait for that stream.
    /// </summary>
    public bool CudaGraphs { get; init; }

    public void Validate()
    {
        // The update scales float32 weights by it: a rate past float32's range cannot be applied.
        if (!(LearningRate > 0 && LearningRate <= float.MaxValue))
            throw new ArgumentException(
                $"learning rate must be a positive number within float32's range (got {LearningRate})");
        if (!(MaxGradNorm >= 0) || double.IsPositiveInfinity(MaxGradNorm))
            throw new ArgumentException($"max grad norm must be 0 (off) or a positive number (got {MaxGradNorm})");
        if (BatchSize < 1) throw new ArgumentException($"batch size must be at least 1 (got {BatchSize})");
        if (GradientAccumulationSteps < 1)
            throw new ArgumentException(
                $"gradient accumulation steps must be at least 1 (got {GradientAccumulationSteps})");
        if (MaxSteps is null && !(Epochs > 0 && Epochs <= 1e6))
            throw new ArgumentException($"epochs must be a positive number (got {Epochs})");
        if (MaxSteps is < 1) throw new ArgumentException($"max steps must be at least 1 (got {MaxSteps})");
        if (WarmupSteps < 0) throw new ArgumentException($"warmup steps cannot be negative (got {WarmupSteps})");
        if (SaveSteps < 0) throw new ArgumentException($"save steps cannot be negative (got {SaveSteps})");
        if (LoggingSteps < 1) throw new ArgumentException($"logging steps must be at least 1 (got {LoggingSteps})");
    }
}
