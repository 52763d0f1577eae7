using MoeLpr.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Training;

/// <summary>One micro-batch of token ids [B, T] with each token's old-language flag [B, T].</summary>
public sealed record MicroBatch(Tensor InputIds, Tensor OldLanguageMask);

/// <summary>
/// A micro-batch's losses, unscaled, with the policy's named parts (e.g. <c>aux_loss</c>) and how many items each
/// part is a mean over (<see cref="LossTerms.PartCounts"/>; 1 for a part that is one number per micro-batch), and
/// its token count.
/// </summary>
public sealed record MicroBatchLoss(double Total, double LmLoss,
    IReadOnlyDictionary<string, double> Parts, IReadOnlyDictionary<string, double> PartCounts, long Tokens);

/// <summary>
/// A micro-batch's loss terms still on the device: total, LM loss, the named parts, then the item counts of the parts
/// in <paramref name="CountedParts"/> (every other part counts 1).
/// </summary>
internal sealed record PendingLoss(Tensor Values, IReadOnlyList<string> PartNames, IReadOnlyList<string> CountedParts,
    long Tokens)
{
    public int Count => 2 + PartNames.Count + CountedParts.Count;

    /// <summary>The terms as read back, from <paramref name="offset"/> in the step's one copy.</summary>
    public MicroBatchLoss Read(double[] values, int offset)
    {
        var parts = PartNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => values[offset + 2 + p.i]);
        var counts = PartNames.ToDictionary(name => name, _ => 1.0);
        for (int i = 0; i < CountedParts.Count; i++) counts[CountedParts[i]] = values[offset + 2 + PartNames.Count + i];
        return new(values[offset], values[offset + 1], parts, counts, Tokens);
    }
}

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
/// trainable parameters only, updates them. Each micro-batch and the update run in their own dispose scope. With
/// <see cref="TrainerOptions.CudaGraphs"/> each micro-batch's forward and backward pass is replayed from a CUDA graph
/// (<see cref="GraphedBackward"/>).
/// </summary>
public sealed class TrainingStep : IDisposable
{
    readonly LlamaForCausalLM model;
    readonly TrainingPolicy policy;
    readonly TrainerOptions options;
    readonly MultiTensorAdamW adamW;
    // One CUDA graph per micro-batch shape and count (the count scales the loss), captured at the first step that
    // starts with one; null where the options leave graphs off.
    readonly Dictionary<(long Rows, long Columns, int Count), GraphedBackward>? graphs;

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
        if (options.CudaGraphs)
        {
            GraphedBackward.RequireCapturable(model, Device);
            graphs = [];
        }
        model.train();
    }

    public Device Device { get; }

    public IReadOnlyList<Parameter> Trainable { get; }

    /// <summary>The optimizer: checkpoints save and restore its moments, step counts and float32 masters.</summary>
    public MultiTensorAdamW Optimizer => adamW;

    /// <summary>
    /// Forward, loss and backward of each micro-batch (each loss scaled by 1/count), then the update at
    /// <paramref name="learningRate"/>. A loss or gradient norm that is not finite throws
    /// <see cref="TrainingDivergedException"/> before anything is updated.
    /// </summary>
    /// <remarks>
    /// The step reads the device once, after clipping: every micro-batch's loss terms and the gradient norm in one
    /// copy. Reading each term as it is computed would make the host wait for the device between the forward and the
    /// backward pass of every micro-batch, with the device idle while the host then issues the next kernels.
    /// </remarks>
    /// <param name="observeRouting">
    /// Sees each micro-batch's router logits (one per MoE layer) and old-language mask on the device, e.g. to log
    /// routing; they are valid during the call only.
    /// </param>
    public StepResult Run(IReadOnlyList<MicroBatch> microBatches, double learningRate,
        Action<IReadOnlyList<Tensor>, Tensor>? observeRouting = null)
    {
        using var scope = torch.NewDisposeScope();
        var pending = microBatches.Select((batch, i) =>
            Backward(batch, microBatches.Count, observeRouting, gradientsAreZero: i == 0)).ToList();
        var gradNorm = ClipGradients();
        var values = torch.cat([.. pending.Select(loss => loss.Values), gradNorm.reshape(1)])
            .cpu().data<double>().ToArray();

        var losses = new List<MicroBatchLoss>();
        int offset = 0;
        foreach (var loss in pending)
        {
            losses.Add(loss.Read(values, offset));
            offset += loss.Count;
        }
        losses.ForEach(ThrowIfNotFinite);
        return new StepResult(losses, Apply(values[offset], learningRate));
    }

    /// <summary>
    /// Parameters that are frozen yet hold a gradient (must be 0: frozen weights get no gradient work).
    /// </summary>
    public int FrozenParametersWithGradient() => model.parameters().Count(p => !p.requires_grad && p.grad is not null);

    /// <summary>
    /// The micro-batch's forward, loss and backward pass: replayed from its CUDA graph where the options ask for
    /// graphs (captured first if this shape has none and no gradient has accumulated yet this step), else run.
    /// </summary>
    PendingLoss Backward(MicroBatch batch, int microBatches, Action<IReadOnlyList<Tensor>, Tensor>? observeRouting,
        bool gradientsAreZero)
    {
        if (graphs is not null)
        {
            var key = (batch.InputIds.shape[0], batch.InputIds.shape[1], microBatches);
            if (!graphs.TryGetValue(key, out var graph) && gradientsAreZero)
                graphs[key] = graph = GraphedBackward.Capture(batch, Device,
                    (ids, oldMask) => Backward(ids, oldMask, microBatches), ZeroGradients);
            if (graph is not null) return graph.Run(batch, observeRouting);
        }
        using var scope = torch.NewDisposeScope();
        var (ids, oldLanguageMask) = (ToDevice(batch.InputIds), ToDevice(batch.OldLanguageMask));
        var (loss, routerLogits) = Backward(ids, oldLanguageMask, microBatches);
        observeRouting?.Invoke(routerLogits, oldLanguageMask);
        return loss with { Values = loss.Values.MoveToOuterDisposeScope() };
    }

    /// <summary>
    /// Forward, loss and backward of one micro-batch already on the device; returns its loss terms and router logits
    /// (detached), in the caller's dispose scope. Issues no read from the device, so a CUDA graph can record it.
    /// </summary>
    (PendingLoss Loss, IReadOnlyList<Tensor> RouterLogits) Backward(Tensor ids, Tensor oldMask, int microBatches)
    {
        var output = model.forward(
            new CausalLMInput(ids, LanguageModelingLabels.From(ids, options.MaskedLabelTokenId), oldMask));
        var terms = policy.ComputeLoss(output, oldMask);
        (terms.Total / microBatches).backward();

        // Logged in single precision, as the losses are computed; widened only to travel with the gradient norm.
        var losses = torch.stack([terms.Total.detach(), terms.LmLoss.detach(), .. terms.Parts.Values.Select(
            part => part.detach())]).to_type(ScalarType.Float32).to_type(ScalarType.Float64);
        var counted = terms.Parts.Keys.Where(name => terms.PartCounts?.ContainsKey(name) == true).ToList();
        var values = counted.Count == 0 ? losses : torch.cat([losses, torch.stack(counted
            .Select(name => terms.PartCounts![name].reshape([]).to_type(ScalarType.Float64)).ToArray())]);
        return (new PendingLoss(values, terms.Parts.Keys.ToList(), counted, ids.numel()),
            output.RouterLogits.Select(logits => logits.detach()).ToList());
    }

    /// <summary>Sets every trainable parameter's gradient to zero in place (its memory stays where a graph wrote it).
    /// </summary>
    void ZeroGradients()
    {
        using var _ = torch.no_grad();
        foreach (var parameter in Trainable) parameter.grad?.zero_();
    }

    /// <summary>
    /// A batch tensor on the step's device. To a GPU it goes from page-locked memory without blocking, as PyTorch's
    /// <c>pin_memory</c> + <c>non_blocking</c> idiom does: a copy from pageable memory waits until the device has
    /// finished all the work queued before it, here the previous step's update.
    /// </summary>
    Tensor ToDevice(Tensor tensor) => Device.type == DeviceType.CUDA && tensor.device_type == DeviceType.CPU
        ? tensor.pin_memory().to(Device, non_blocking: true)
        : tensor.to(Device);

    static void ThrowIfNotFinite(MicroBatchLoss loss)
    {
        if (double.IsFinite(loss.Total)) return;
        var culprit = !double.IsFinite(loss.LmLoss) ? ("lm_loss", loss.LmLoss)
            : loss.Parts.Where(p => !double.IsFinite(p.Value))
                .Select(p => (p.Key, p.Value)).FirstOrDefault(("the total loss", loss.Total));
        throw new TrainingDivergedException($"{culprit.Item1} is {culprit.Item2}");
    }

    /// <summary>
    /// Clips the accumulated gradients to the global norm the options allow, applies AdamW at
    /// <paramref name="learningRate"/> and zeroes the gradients; returns the norm before clipping. A norm that is not
    /// finite throws <see cref="TrainingDivergedException"/> before anything is updated.
    /// </summary>
    public double Update(double learningRate)
    {
        using var scope = torch.NewDisposeScope();
        return Apply(ClipGradients().item<double>(), learningRate);
    }

    /// <summary>The global gradient norm before clipping, on the device (float64).</summary>
    Tensor ClipGradients() =>
        adamW.ClipGradNorm(options.MaxGradNorm > 0 ? options.MaxGradNorm : double.PositiveInfinity)
            .to_type(ScalarType.Float64);

    double Apply(double gradNorm, double learningRate)
    {
        if (!double.IsFinite(gradNorm)) throw new TrainingDivergedException($"the gradient norm is {gradNorm}");
        adamW.Step(learningRate);
        return gradNorm;
    }

    public void Dispose()
    {
        foreach (var graph in graphs?.Values ?? Enumerable.Empty<GraphedBackward>()) graph.Dispose();
        adamW.Dispose();
    }
}
