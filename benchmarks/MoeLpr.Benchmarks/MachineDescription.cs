using System.Runtime.InteropServices;
using MoeLpr.Devices;
using TorchSharp;

namespace MoeLpr.Benchmarks;

/// <summary>What the numbers were measured on, including how busy the machine was before and after.</summary>
public sealed record MachineDescription(
    string CpuModel, int LogicalCores, int TorchThreads, string TorchSharpVersion, string LibTorchVersion,
    string Os, string DotNet, string Device, string DType, string? CudaNote,
    string LoadAverageAtStart, string? LoadAverageAtEnd, DateTime StartedUtc)
{
    public static MachineDescription Capture(string device, string dtype, string? cudaNote) => new(
        ReadCpuModel(), Environment.ProcessorCount, torch.get_num_threads(),
        typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown", LibTorchNatives.LoadedVersion(),
        $"{RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture})",
        RuntimeInformation.FrameworkDescription, device, dtype, cudaNote, LoadAverage(), null, DateTime.UtcNow);

    /// <summary>The 1/5/15-minute load averages from /proc/loadavg (a loaded machine inflates every timing).</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg")
            ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))
            : "unknown";

    static string ReadCpuModel()
    {
        if (!File.Exists("/proc/cpuinfo")) return RuntimeInformation.ProcessArchitecture.ToString();
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"));
        return line is null ? "unknown" : line[(line.IndexOf(':') + 1)..].Trim();
    }
}
