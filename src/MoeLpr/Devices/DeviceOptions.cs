using static TorchSharp.torch;

namespace MoeLpr.Devices;

/// <summary>Where a run computes: the device (<see cref="DeviceSelector"/>) and libtorch's CPU thread count.</summary>
public record DeviceOptions
{
    /// <summary>auto, cpu, cuda, cuda:N or mps.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>libtorch's CPU threads; libtorch's own default (the core count) when null.</summary>
    public int? Threads { get; init; }

    /// <summary>Sets the thread count and resolves the device.</summary>
    public Device Start()
    {
        if (Threads is int threads) DeviceSelector.SetThreads(threads);
        return DeviceSelector.Resolve(Device);
    }
}
