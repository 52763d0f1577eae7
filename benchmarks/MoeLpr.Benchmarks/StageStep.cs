using MoeLpr.Model;
using MoeLpr.Training;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>
/// The library's <see cref="TrainingStep"/> for stage 1 or 2, run on a synthetic batch: the stage policy freezes the
/// model and composes the loss (stage 1: routers + new experts, LM + 0.01·L_bal; stage 2: routers, LM + 0.1·L_LPR);
/// AdamW over the trainable parameters only; global-norm clipping at 1.
/// </summary>
public static class StageStep
{
    public const double LearningRate = 1e-4;

    /// <param name="cudaGraphs">Replay each step's forward and backward pass from a CUDA graph.</param>
    public static TrainingStep Create(LlamaForCausalLM model, MoeConfig moe, int stage, Device device,
        bool cudaGraphs = false) =>
        new(model, stage switch
        {
            1 => new Stage1Policy(moe),
            2 => new Stage2Policy(moe),
            _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, "stage must be 1 or 2"),
        }, new TrainerOptions { LearningRate = LearningRate, Device = device, CudaGraphs = cudaGraphs });

    public static string Describe(int stage) => stage == 1
        ? $"routers + new experts trainable; LM + {MoeConfig.ReferenceAuxLossCoef}·L_bal"
        : $"routers trainable; LM + {MoeConfig.ReferenceLprLossCoef}·L_LPR (half the rows old-language)";

    /// <summary>One optimisation step on the batch (labels = ids); returns the loss.</summary>
    public static float Run(this TrainingStep step, TrainingBatch batch) =>
        (float)step.Run([new MicroBatch(batch.InputIds, batch.OldLanguageMask)], LearningRate).MicroBatches[0].Total;
}
