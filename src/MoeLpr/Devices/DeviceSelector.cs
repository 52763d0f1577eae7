using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Devices;

/// <summary>
/// Maps a user's device name to a TorchSharp device: <c>auto</c> (CUDA, else MPS, else CPU), <c>cpu</c>,
/// <c>cuda</c>, <c>cuda:N</c>, <c>mps</c>. <c>npu</c> (Ascend) is recognised and refused with an explanation.
/// </summary>
public static class DeviceSelector
{
    public static readonly string[] ValidNames = ["auto", "cpu", "cuda", "cuda:N", "mps"];

    public static Device Resolve(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var normalized = name.Trim().ToLowerInvariant();
        switch (normalized)
        {
            case "auto":
                if (torch.cuda.is_available()) return torch.CUDA;
                if (torch.mps_is_available()) return torch.MPS;
                return torch.CPU;
            case "cpu":
                return torch.CPU;
            case "cuda":
                RequireCuda(name);
                return torch.CUDA;
            case "mps":
                if (!torch.mps_is_available())
                    throw new ArgumentException(
                        $"device '{name}': MPS is not available (it needs Apple silicon and the macOS arm64 libtorch)");
                return torch.MPS;
        }
        if (normalized == "npu" || normalized.StartsWith("npu:"))
            throw new ArgumentException(
                $"device '{name}': TorchSharp's libtorch has no Ascend (NPU) backend; use cpu or cuda");
        if (normalized.StartsWith("cuda:"))
        {
            var suffix = normalized["cuda:".Length..];
            if (!int.TryParse(suffix, out var index) || index < 0 || suffix != index.ToString())
                throw new ArgumentException(
                    $"device '{name}': the CUDA index must be a non-negative integer, as in cuda:0");
            RequireCuda(name);
            var count = torch.cuda.device_count();
            if (index >= count)
                throw new ArgumentException(
                    $"device '{name}': only {count} CUDA device(s) present (valid: cuda:0..cuda:{count - 1})");
            return torch.device(DeviceType.CUDA, index);
        }
        throw new ArgumentException(
            $"unknown device '{name}' (valid: {string.Join(", ", ValidNames)}; npu is not supported)");
    }

    /// <summary>Sets libtorch's intra-op thread count (use the core count, or 1 when tests run in parallel).</summary>
    public static void SetThreads(int n)
    {
        if (n < 1)
            throw new ArgumentOutOfRangeException(null, $"the thread count (--threads) must be at least 1 (got {n})");
        torch.set_num_threads(n);
    }

    private static void RequireCuda(string name)
    {
        if (!torch.cuda.is_available())
            throw new ArgumentException($"device '{name}': CUDA is not available: {Doctor.WhyNoCuda()}");
    }
}
