using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace MoeLpr.Devices;

/// <summary>
/// Starts TorchSharp's native side from explicit places, for processes where TorchSharp's own search fails: a notebook
/// kernel loads TorchSharp from the NuGet cache, whose <c>libLibTorchSharp.so</c> needs a newer libstdc++ than Debian
/// 12 has, and whose libtorch sits in another package folder. Loading libtorch first and then a binding by path works
/// because the loader matches the binding's needed libraries to the already loaded ones by soname, and TorchSharp's
/// probe for "LibTorchSharp" then finds the loaded binding the same way. Must run before the first TorchSharp call.
/// </summary>
public static class LibTorchNatives
{
    // libtorch's shared libraries in load order; the CUDA ones exist only in CUDA builds.
    static readonly string[] LibTorchLibraries = ["libc10.so", "libtorch_cpu.so", "libc10_cuda.so",
        "libtorch_cuda.so", "libtorch.so"];

    /// <summary>
    /// The libtorch version TorchSharp was built against, as NuGet names it ("2.10.0"). Read from TorchSharp's constant
    /// by reflection because every member of <c>torch</c>, <c>__version__</c> included, runs its static constructor,
    /// which starts the native backend.
    /// </summary>
    public static string BuiltForLibTorch { get; } = NuGetVersion(
        (string?)typeof(torch)
            .GetField("libtorchPackageVersion", BindingFlags.NonPublic | BindingFlags.Static)?.GetRawConstantValue()
        ?? throw new InvalidOperationException("TorchSharp does not name the libtorch version it was built for"));

    /// <summary>
    /// True when TorchSharp's first probe (the binding next to TorchSharp.dll or on the loader's path) succeeds.
    /// </summary>
    public static bool TorchSharpFindsItsBinding() =>
        NativeLibrary.TryLoad("LibTorchSharp", typeof(torch).Assembly, null, out _);

    /// <summary>
    /// Loads libtorch from <paramref name="libtorchDirectory"/>, then TorchSharp's binding from
    /// <paramref name="bindingPath"/>.
    /// </summary>
    public static void Load(string libtorchDirectory, string bindingPath)
    {
        if (!Directory.Exists(libtorchDirectory))
            throw new DirectoryNotFoundException($"{libtorchDirectory}: libtorch folder not found");
        var libraries = LibTorchLibraries.Select(name => Path.Combine(libtorchDirectory, name))
            .Where(File.Exists).ToList();
        if (!libraries.Any(path => path.EndsWith("libtorch_cpu.so", StringComparison.Ordinal)))
            throw new FileNotFoundException(
                $"{libtorchDirectory}: no libtorch_cpu.so here, so this is not a libtorch folder");
        if (!File.Exists(bindingPath))
            throw new FileNotFoundException($"{bindingPath}: TorchSharp's native binding not found");
        foreach (var library in libraries) NativeLibrary.Load(library);
        NativeLibrary.Load(bindingPath);
    }

    /// <summary>
    /// The libtorch folder of the libtorch-cpu package that TorchSharp was built for, in the NuGet cache that holds
    /// TorchSharp.dll (the layout a notebook kernel restores into), or null when TorchSharp is not loaded from a cache.
    /// </summary>
    public static string? NuGetCacheLibTorch()
    {
        // .../packages/torchsharp/<version>/lib/<tfm>/TorchSharp.dll
        var lib = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        if (lib is null) return null;
        var packages = Path.GetFullPath(Path.Combine(lib, "..", "..", "..", ".."));
        var folder = Path.Combine(packages, "libtorch-cpu-linux-x64", BuiltForLibTorch, "runtimes",
            "linux-x64", "native");
        return Directory.Exists(folder) ? folder : null;
    }

    // "2.10.0.0" -> "2.10.0": NuGet drops a zero fourth part from folder names.
    static string NuGetVersion(string version) =>
        version.Count(c => c == '.') == 3 && version.EndsWith(".0", StringComparison.Ordinal) ? version[..^2] : version;
}
