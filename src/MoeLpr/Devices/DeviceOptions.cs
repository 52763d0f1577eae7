using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Devices;

/// <summary>
/// Where a run computes: the device (<see cref="DeviceSelector"/>), libtorch's CPU thread count, and how its model
/// runs attention and its MoE blocks' experts there.
/// </summary>
public record DeviceOptions
{
    /// <summary>auto, cpu, cuda, cuda:N or mps.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>libtorch's CPU threads; libtorch's own default (the core count) when null.</summary>
    public int? Threads { get; init; }

    /// <summary>
    /// How every MoE block of the run's model runs its experts (<see cref="ExpertDispatch.Auto"/>: grouped on CUDA in
    /// bfloat16/float16, the loop elsewhere).
    /// </summary>
    public ExpertDispatch MoeDispatch { get; init; } = ExpertDispatch.Auto;

    /// <summary>
    /// How every attention layer of the run's model computes attention (<see cref="AttentionImplementation.Auto"/>:
    /// scaled_dot_product_attention on CUDA, HF's eager attention elsewhere).
    /// </summary>
    public AttentionImplementation Attention { get; init; } = AttentionImplementation.Auto;

    /// <summary>
    /// Applies <see cref="Attention"/> and <see cref="MoeDispatch"/> to the modules <paramref name="model"/> has now.
    /// </summary>
    public void ChooseKernels(nn.Module model)
    {
        LlamaAttention.SetImplementation(model, Attention);
        MoeBlock.SetDispatch(model, MoeDispatch);
    }

    /// <summary>Sets the thread count and resolves the device.</summary>
    public Device Start()
    {
        if (Threads is int threads) DeviceSelector.SetThreads(threads);
        return DeviceSelector.Resolve(Device);
    }
}
