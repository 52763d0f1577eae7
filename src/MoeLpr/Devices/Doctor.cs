using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;

namespace MoeLpr.Devices;

/// <summary>
/// One finding of <see cref="Doctor"/>: what was checked, what was found, and for anything missing why and what to do.
/// </summary>
public sealed record DoctorFinding(string Topic, string Found, string? Advice = null);

/// <summary>
/// What <c>moelpr doctor</c> reports: the runtime, the libtorch TorchSharp actually runs on (path and version), the
/// devices it can use (CUDA GPUs with name and memory, MPS), the CPU threads, and for a missing GPU exactly why and
/// what to do. Starts TorchSharp, so call it after choosing the libtorch.
/// </summary>
public static class Doctor
{
    public static IReadOnlyList<DoctorFinding> Examine(LibTorchFolder? chosen)
    {
        var cuda = torch.cuda.is_available();  // starts TorchSharp on whatever libtorch was chosen
        var folder = LibTorchNatives.LoadedLibTorchFolder();
        var findings = new List<DoctorFinding>
        {
            new(".NET", $"{RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription} " +
                        $"({RuntimeInformation.OSArchitecture})"),
            new("TorchSharp", $"{typeof(torch).Assembly.GetName().Version?.ToString(3)}, " +
                              $"built for libtorch {LibTorchNatives.BuiltForLibTorch}"),
            new("libtorch", folder is null ? "not loaded" :
                $"{folder} (version {LibTorchFolder.VersionOf(folder) ?? "unknown"}, " +
                $"{chosen?.Origin ?? "the kit's own"})", chosen?.VersionWarning),
            new("CPU", $"{Environment.ProcessorCount} logical cores, libtorch uses {torch.get_num_threads()} threads"),
        };
        findings.Add(cuda ? new("CUDA", Gpus()) : new("CUDA", "not available", WhyNoCuda()));
        findings.Add(
            torch.mps_is_available() ? new("MPS", "available") : new("MPS", "not available (Apple silicon only)"));
        return findings;
    }

    static string Gpus()
    {
        var count = torch.cuda.device_count();
        var smi = Run("nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader");
        var names = smi?.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        return $"{count} GPU(s): " + string.Join("; ", Enumerable.Range(0, count).Select(i =>
            $"cuda:{i} {(i < names.Length ? names[i] : "(nvidia-smi not found: name and memory unknown)")}"));
    }

    /// <summary>Why libtorch sees no CUDA GPU in this process, and what to do about it.</summary>
    public static string WhyNoCuda()
    {
        var loadedFolder = LibTorchNatives.LoadedLibTorchFolder();
        bool libtorchHasCuda = loadedFolder is not null && File.Exists(Path.Combine(loadedFolder, "libtorch_cuda.so"));
        bool driver = File.Exists("/proc/driver/nvidia/version") || Run("nvidia-smi", "-L") is not null;
        if (!driver)
            return "no NVIDIA driver here (no /proc/driver/nvidia/version, no nvidia-smi), so the kit runs on the " +
                   "CPU; on a machine with an NVIDIA GPU, install a CUDA build of PyTorch and the kit runs on its " +
                   "libtorch (name its torch/lib folder with --libtorch or MOELPR_LIBTORCH if it is not found)";
        if (libtorchHasCuda)
            return $"{loadedFolder} has CUDA and a driver is present, but libtorch found no usable GPU: " +
                   "check nvidia-smi";
        var pytorch = LibTorchFolder.InstalledPyTorch();
        return pytorch switch
        {
            { HasCuda: true } =>
                $"the kit's libtorch is CPU-only (TorchSharp-cpu); run with --libtorch {pytorch.Path} " +
                $"(or set {LibTorchFolder.EnvironmentVariable}), or --device auto to let the kit pick it",
            not null =>
                $"the installed PyTorch ({pytorch.Path}, {pytorch.Version}) has no CUDA; " +
                "install a CUDA build of PyTorch",
            null =>
                "the kit's libtorch is CPU-only (TorchSharp-cpu) and python3 finds no PyTorch: install a CUDA " +
                "build of PyTorch and run with --libtorch <site-packages>/torch/lib " +
                $"(or {LibTorchFolder.EnvironmentVariable}), or reference TorchSharp-cuda-linux where a feed serves it",
        };
    }

    static string? Run(string program, params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo(program, arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start);
            if (process is null) return null;
            var output = process.StandardOutput.ReadToEnd();
            return process.WaitForExit(10_000) && process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }
}
