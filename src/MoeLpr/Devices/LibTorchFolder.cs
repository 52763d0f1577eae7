using System.Diagnostics;
using System.Text.RegularExpressions;

namespace MoeLpr.Devices;

/// <summary>
/// A libtorch folder to run TorchSharp on instead of the kit's own CPU libtorch: named with <c>--libtorch</c> or
/// <c>MOELPR_LIBTORCH</c>, or found in an installed PyTorch (<c>&lt;site-packages&gt;/torch/lib</c>) whose libtorch has
/// CUDA. TorchSharp 0.107 is built for libtorch 2.10; PyTorch 2.11's libtorch (CUDA 13) was measured to provide every
/// symbol it needs on an H100. Other versions are used with a warning.
/// </summary>
/// <param name="Version">
/// The libtorch version, read from the folder's layout (PyTorch, libtorch zip, NuGet); null if unknown.
/// </param>
/// <param name="Origin">How it was chosen, for messages and <c>moelpr doctor</c>.</param>
public sealed partial record LibTorchFolder(string Path, string? Version, string Origin)
{
    public const string EnvironmentVariable = "MOELPR_LIBTORCH";

    /// <summary>
    /// libtorch versions (major.minor) TorchSharp 0.107 runs on: the one it was built for and the ones measured.
    /// </summary>
    static readonly string[] KnownToWork = ["2.10", "2.11"];

    public bool HasCuda => File.Exists(System.IO.Path.Combine(Path, "libtorch_cuda.so"));

    /// <summary>Null when the version is one TorchSharp is known to run on, else why it might not.</summary>
    public string? VersionWarning =>
        Version is null
            ? $"{Path}: the libtorch version is unknown; TorchSharp {TorchSharpVersion} is built for " +
              LibTorchNatives.BuiltForLibTorch
            : KnownToWork.Any(v => Version.StartsWith(v + ".", StringComparison.Ordinal) || Version == v)
                ? null
                : $"{Path}: libtorch {Version} has not been tried with TorchSharp {TorchSharpVersion} " +
                  $"(built for {LibTorchNatives.BuiltForLibTorch}, 2.11 measured to work); if a symbol is missing, " +
                  $"use a PyTorch with libtorch {string.Join(" or ", KnownToWork)}";

    /// <summary>
    /// The folder to use: <paramref name="option"/> (<c>--libtorch</c>), else <see cref="EnvironmentVariable"/>, else
    /// an installed PyTorch: any when the kit carries no libtorch, one with CUDA when the kit's own libtorch has none
    /// and <paramref name="device"/> may be a GPU; null keeps the kit's own libtorch. A named folder that is missing
    /// or holds no libtorch, or no libtorch at all, is an error naming what is missing.
    /// </summary>
    public static LibTorchFolder? Choose(string? option, string device)
    {
        if (!string.IsNullOrEmpty(option)) return Named(option, "--libtorch");
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } variable)
            return Named(variable, EnvironmentVariable);
        if (!LibTorchNatives.HasOwnLibTorch())
            return InstalledPyTorch() ?? throw new FileNotFoundException(
                $"{AppContext.BaseDirectory}: this kit was published without libtorch and python3 finds no PyTorch; " +
                $"name a libtorch folder with --libtorch or {EnvironmentVariable}, or install PyTorch");
        if (device.Trim().Equals("cpu", StringComparison.OrdinalIgnoreCase) || LibTorchNatives.OwnLibTorchHasCuda())
            return null;
        return InstalledPyTorch() is { HasCuda: true } pytorch ? pytorch : null;
    }

    /// <summary>A folder the user named; its libtorch must be there.</summary>
    public static LibTorchFolder Named(string folder, string origin)
    {
        var path = System.IO.Path.GetFullPath(folder);
        if (!Directory.Exists(path))
            throw new DirectoryNotFoundException($"{folder}: libtorch folder not found ({origin})");
        if (!File.Exists(System.IO.Path.Combine(path, "libtorch_cpu.so")))
            throw new FileNotFoundException($"{folder}: no libtorch_cpu.so here, so this is not a libtorch folder " +
                                            $"({origin}); for PyTorch name its torch/lib folder");
        return new LibTorchFolder(path, VersionOf(path), origin);
    }

    /// <summary>
    /// The libtorch of the PyTorch that <c>python3</c> would import, located without importing it (find_spec, a few
    /// milliseconds); null when there is no python3 or no torch.
    /// </summary>
    public static LibTorchFolder? InstalledPyTorch()
    {
        const string locate = "import importlib.util as u; s = u.find_spec('torch'); " +
                              "print(s.submodule_search_locations[0] if s else '')";
        try
        {
            var start = new ProcessStartInfo("python3", ["-c", locate])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var python = Process.Start(start);
            if (python is null) return null;
            var torchDir = python.StandardOutput.ReadToEnd().Trim();
            if (!python.WaitForExit(10_000) || python.ExitCode != 0 || torchDir.Length == 0) return null;
            var lib = System.IO.Path.Combine(torchDir, "lib");
            return File.Exists(System.IO.Path.Combine(lib, "libtorch_cpu.so"))
                ? new LibTorchFolder(lib, VersionOf(lib), "installed PyTorch")
                : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; } // no python3
    }

    /// <summary>The version of the libtorch in <paramref name="folder"/>, from whichever layout it has.</summary>
    public static string? VersionOf(string folder)
    {
        var parent = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(folder).TrimEnd('/'));
        // PyTorch: torch/lib next to torch/version.py (__version__ = '2.11.0+cu130')
        if (parent is not null && File.Exists(System.IO.Path.Combine(parent, "version.py"))
            && PythonVersion()
                .Match(File.ReadAllText(System.IO.Path.Combine(parent, "version.py"))) is { Success: true } py)
            return py.Groups[1].Value;
        // libtorch zip: libtorch/lib next to libtorch/build-version (2.10.0+cpu)
        if (parent is not null && File.Exists(System.IO.Path.Combine(parent, "build-version")))
            return File.ReadAllText(System.IO.Path.Combine(parent, "build-version")).Trim();
        // NuGet: libtorch-cpu-linux-x64/2.10.0/runtimes/linux-x64/native
        if (NuGetFolder().Match(folder) is { Success: true } nuget) return nuget.Groups[1].Value;
        // the kit's own build or publish output: the libtorch-cpu package TorchSharp-cpu brings
        var app = System.IO.Path.GetFullPath(AppContext.BaseDirectory).TrimEnd('/');
        var full = System.IO.Path.GetFullPath(folder).TrimEnd('/');
        return full == app || full == System.IO.Path.Combine(app, "runtimes", "linux-x64", "native")
            ? LibTorchNatives.BuiltForLibTorch
            : null;
    }

    static string TorchSharpVersion => typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(3) ?? "?";

    [GeneratedRegex(@"__version__\s*=\s*['""]([^'""]+)['""]")]
    private static partial Regex PythonVersion();

    [GeneratedRegex(@"libtorch-[a-z0-9.-]+[/\\](\d+\.\d+\.\d+(?:\.\d+)?)[/\\]runtimes")]
    private static partial Regex NuGetFolder();
}
