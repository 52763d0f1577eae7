using MoeLpr.Devices;
using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Training;

/// <summary>
/// One micro-batch's forward pass, loss and backward pass recorded as a <see cref="CudaGraph"/> and replayed for each
/// later micro-batch of the same shape. The graph reads its micro-batch from two tensors of its own (the ids and the
/// old-language mask), into which each micro-batch is copied, adds its gradients to the trainable parameters' (in
/// place, as autograd does once a gradient exists), and writes its loss terms and router logits to tensors it
/// keeps. Clipping and the AdamW update stay outside: they run as a handful of multi-tensor kernels.
/// </summary>
internal sealed class GraphedBackward : IDisposable
{
    // Calls before the capture: TorchScript's executor profiles a function's first call and optimises it from the
    // second (fused kernels compiled then), and libtorch sets up cuBLAS per stream; PyTorch's examples warm up thrice.
    const int WarmupPasses = 3;

    readonly Tensor inputIds, oldLanguageMask;
    readonly CudaGraph graph;
    readonly PendingLoss loss;
    readonly IReadOnlyList<Tensor> routerLogits;

    GraphedBackward(Tensor inputIds, Tensor oldLanguageMask, CudaGraph graph, PendingLoss loss,
        IReadOnlyList<Tensor> routerLogits) =>
        (this.inputIds, this.oldLanguageMask, this.graph, this.loss, this.routerLogits) =
        (inputIds, oldLanguageMask, graph, loss, routerLogits);

    /// <summary>
    /// Refuses a model whose step a CUDA graph cannot record: one on another device, or with MoE blocks that run the
    /// per-expert loop, which reads the experts' group sizes back to the host.
    /// </summary>
    public static void RequireCapturable(LlamaForCausalLM model, Device device)
    {
        if (device.type != DeviceType.CUDA)
            throw new ArgumentException($"CUDA graphs need a CUDA device (training runs on {device})");
        if (MoeBlock.ExpertDispatchOf(model, DeviceType.CUDA) == "loop")
            throw new ArgumentException(
                "CUDA graphs need grouped experts (bfloat16 or float16 weights, or --moe-dispatch grouped): the " +
                "per-expert loop reads each expert's token count back to the host, which a graph cannot record");
    }

    /// <summary>
    /// Warms <paramref name="backward"/> up on <paramref name="example"/> and records it, with every trainable gradient
    /// zero before and after (the warm-up's gradients are discarded: call it before a step accumulates any).
    /// Nothing is trained until <see cref="Run"/>.
    /// </summary>
    /// <param name="backward">Forward, loss and backward of the micro-batch on the device (ids, old-language mask),
    /// without reading the device; returns its loss terms and router logits in the caller's dispose scope.</param>
    public static GraphedBackward Capture(MicroBatch example, Device device,
        Func<Tensor, Tensor, (PendingLoss Loss, IReadOnlyList<Tensor> RouterLogits)> backward, Action zeroGradients)
    {
        var ids = InputBuffer(example.InputIds, device);
        var oldMask = InputBuffer(example.OldLanguageMask, device);
        (PendingLoss Loss, IReadOnlyList<Tensor> RouterLogits) outputs = default;
        var graph = CudaGraph.Capture(device,
            warmup: () =>
            {
                for (int i = 0; i < WarmupPasses; i++)
                {
                    using var scope = torch.NewDisposeScope();
                    backward(ids, oldMask);
                }
                zeroGradients();
            },
            work: () =>
            {
                using var scope = torch.NewDisposeScope();
                var (loss, logits) = backward(ids, oldMask);
                outputs = (loss with { Values = loss.Values.DetachFromDisposeScope() },
                    logits.Select(l => l.DetachFromDisposeScope()).ToList());
            });
        return new GraphedBackward(ids, oldMask, graph, outputs.Loss!, outputs.RouterLogits!);
    }

    /// <summary>
    /// Copies <paramref name="batch"/> into the graph's inputs and replays it: its gradients are added, and its loss
    /// terms are returned in the caller's dispose scope (a copy: the next replay overwrites the graph's own).
    /// </summary>
    public PendingLoss Run(MicroBatch batch, Action<IReadOnlyList<Tensor>, Tensor>? observeRouting)
    {
        using (var scope = torch.NewDisposeScope())
        {
            inputIds.copy_(Pinned(batch.InputIds), true);   // without blocking
            oldLanguageMask.copy_(Pinned(batch.OldLanguageMask), true);
        }
        graph.Replay();
        observeRouting?.Invoke(routerLogits, oldLanguageMask);
        return loss with { Values = loss.Values.clone() };
    }

    /// <summary>A tensor of the graph's own on <paramref name="device"/>, holding a copy of <paramref name="example"/>.
    /// </summary>
    static Tensor InputBuffer(Tensor example, Device device)
    {
        var buffer = torch.empty(example.shape, example.dtype, device).DetachFromDisposeScope();
        buffer.copy_(example);
        return buffer;
    }

    // From page-locked memory a copy to the GPU does not wait for the work queued before it (see TrainingStep).
    static Tensor Pinned(Tensor tensor) => tensor.device_type == DeviceType.CPU ? tensor.pin_memory() : tensor;

    public void Dispose()
    {
        graph.Dispose();
        foreach (var tensor in routerLogits.Append(loss.Values).Append(inputIds).Append(oldLanguageMask))
            tensor.Dispose();
    }
}
