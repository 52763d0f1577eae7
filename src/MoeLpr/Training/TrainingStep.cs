using MoeLpr.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Training;

/// <summary>One micro-batch of token ids [B, T] with each token's old-language flag [B, T].</summary>
public sealed record MicroBatch(Tensor InputIds, Tensor OldLanguageMask);

/// <summary>
/// A micro-batch's losses, unscaled, with the policy's named parts (e.g. <c>aux_loss</c>), and its token count.
/// </summary>
public sealed record MicroBatchLoss(double Total, double LmLoss,
    IReadOnlyDictionary<string, double> Parts, long Tokens);

/// <summary>What one optimizer step did: the loss of each micro-batch and the gradient norm before clipping.</summary>
public sealed record StepResult(IReadOnlyList<MicroBatchLoss> MicroBatches, double GradNorm);

/// <summary>
/// A loss term or the gradient norm became NaN or infinite; training stopped before the update was applied.
/// </summary>
public sealed class TrainingDivergedException(string message) : InvalidOperationException(message);

/// <summary>
/// One optimisation step, the same for every training run, the demo and the benchmarks: the policy composes the loss
/// of each micro-batch (LM labels are the ids, masked where <c>MaskedLabelTokenId</c> says), gradients accumulate over
/// the micro-batches, the global norm is clipped, the scheduled learning rate is set and AdamW, built over the
/// trainable parameters only, updates them. Each micro-batch and the update run in their own dispose scope.
/// </summary>
public sealed class TrainingStep : IDisposable
{
    readonly LlamaForCausalLM model;
    readonly TrainingPolicy policy;
    readonly TrainerOptions options;
    readonly MultiTensorAdamW adamW;

    /// <summary>
    /// Prepares the model for the policy (adds its modules, moves it to the device, freezes every parameter the policy
    /// does not train) and builds the optimizer.
    /// </summary>
    public TrainingStep(LlamaForCausalLM model, TrainingPolicy policy, TrainerOptions options)
    {
        (this.model, this.policy, this.options) = (model, policy, options);
        policy.Prepare(model);
        Device = options.Device ?? torch.CPU;
        model.to(Device);
        if (model.SetTrainable(policy.IsTrainable) == 0)
            throw new InvalidOperationException($"policy '{policy.Name}' selects no trainable parameter in this model");
        Trainable = model.parameters().Where(p => p.requires_grad).ToList();
        adamW = new MultiTensorAdamW(Trainable, options.LearningRate);
        model.train();
    }

    public Device Device { get; }

    public IReadOnlyList<Parameter> Trainable { get; }

    /// <summary>The AdamW state (moments, step counts) that checkpoints save and restore.</summary>
    public AdamW Optimizer => adamW.Optimizer;

    /// <summary>
    /// Forward, loss and backward of each micro-batch (each loss scaled by 1/count), then the update at
    /// <paramref name="learningRate"/>. A loss or gradient norm that is not finite throws
    /// <see cref="TrainingDivergedException"/> before anything is updated.
    /// </summary>
    /// <param name="observe">Sees each micro-batch's model output and old-language mask (e.g. to log routing).</param>
    public StepResult Run(IReadOnlyList<MicroBatch> microBatches, double learningRate,
        Action<CausalLMOutput, Tensor>? observe = null)
    {
        var losses = microBatches.Select(batch => Backward(batch, microBatches.Count, observe)).ToList();
        return new StepResult(losses, Update(learningRate));
    }

    /// <summary>
    /// Parameters that are frozen yet hold a gradient (must be 0: frozen weights get no gradient work).
    /// </summary>
    public int FrozenParametersWithGradient() => model.parameters().Count(p => !p.requires_grad && p.grad is not null);

    MicroBatchLoss Backward(MicroBatch batch, int microBatches, Action<CausalLMOutput, Tensor>? observe)
    {
        using var scope = torch.NewDisposeScope();
        var ids = batch.InputIds.to(Device);
        var oldMask = batch.OldLanguageMask.to(Device);
        var output = model.forward(
            new CausalLMInput(ids, LanguageModelingLabels.From(ids, options.MaskedLabelTokenId), oldMask));
        var terms = policy.ComputeLoss(output, oldMask);

        var loss = new MicroBatchLoss(terms.Total.item<float>(), terms.LmLoss.item<float>(),
                                      terms.Parts.ToDictionary(p => p.Key, p => (double)p.Value.item<float>()),
                                      ids.numel());
        if (!double.IsFinite(loss.Total))
        {
            var culprit = !double.IsFinite(loss.LmLoss) ? ("lm_loss", loss.LmLoss)
                : loss.Parts.Where(p => !double.IsFinite(p.Value))
                    .Select(p => (p.Key, p.Value)).FirstOrDefault(("the total loss", loss.Total));
            throw new TrainingDivergedException($"{culprit.Item1} is {culprit.Item2}");
        }
        (terms.Total / microBatches).backward();
        observe?.Invoke(output, oldMask);
        return loss;
    }

    /// <summary>
    /// Clips the accumulated gradients to the global norm the options allow, applies AdamW at
    /// <paramref name="learningRate"/> and zeroes the gradients; returns the norm before clipping. A norm that is not
    /// finite throws <see cref="TrainingDivergedException"/> before anything is updated.
    /// </summary>
    public double Update(double learningRate)
    {
        double gradNorm = adamW.ClipGradNorm(options.MaxGradNorm > 0 ? options.MaxGradNorm : double.PositiveInfinity);
        if (!double.IsFinite(gradNorm)) throw new TrainingDivergedException($"the gradient norm is {gradNorm}");
        adamW.Step(learningRate);
        return gradNorm;
    }

    public void Dispose() => adamW.Dispose();
}
