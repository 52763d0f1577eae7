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
    /// Whether the kit carries a libtorch next to the app (no: a publish made with <c>-p:WithoutLibTorch=true</c>).
    /// </summary>
    public static bool HasOwnLibTorch() => AppLocalLibraryExists("libtorch_cpu.so");

    /// <summary>Whether the kit's own libtorch (next to the app) is a CUDA build; TorchSharp-cpu's is not.</summary>
    public static bool OwnLibTorchHasCuda() => AppLocalLibraryExists("libtorch_cuda.so");

    static bool AppLocalLibraryExists(string fileName) =>
        AppLocalNativeFolders().Any(folder => File.Exists(Path.Combine(folder, fileName)));

    /// <summary>
    /// Runs TorchSharp on the libtorch in <paramref name="folder"/> instead of the kit's own: loads that libtorch, then
    /// the kit's Debian-12-loadable TorchSharp binding, which binds to it by soname. Must run before the first
    /// TorchSharp call, in a process where <see cref="CompetingLibTorchFolders"/> is empty.
    /// </summary>
    public static void Use(LibTorchFolder folder)
    {
        if (CompetingLibTorchFolders(folder) is [var own, ..])
            throw new InvalidOperationException(
                $"{folder.Path}: TorchSharp would also load the libtorch in {own}, and two libtorch builds in one " +
                "process abort it; run the kit from a folder without its own libtorch");
        var binding = AppLocalNativeFolders()
            .Select(folder => Path.Combine(folder, "libLibTorchSharp.so"))
            .FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException(
                $"{AppContext.BaseDirectory}: TorchSharp's libLibTorchSharp.so is not next to the kit");
        var handles = Load(folder.Path, binding);
        NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, (name, _, _) => handles.GetValueOrDefault(name));
    }

    /// <summary>
    /// Folders where TorchSharp's start-up would find a libtorch other than <paramref name="folder"/>'s. It probes
    /// "torch_cpu" by name in the app's native search folders (those its deps.json lists, and the app's own) and in
    /// TorchSharp.dll's folder, and a second libtorch_cpu.so in one process aborts it ("Tried to register multiple
    /// backend fallbacks").
    /// </summary>
    public static IReadOnlyList<string> CompetingLibTorchFolders(LibTorchFolder folder)
    {
        var chosen = RealPath(Path.Combine(folder.Path, "libtorch_cpu.so"));
        var searched = ((AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string) ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? AppContext.BaseDirectory);
        return searched.Select(dir => Path.GetFullPath(dir).TrimEnd('/')).Distinct()
            .Where(dir => File.Exists(Path.Combine(dir, "libtorch_cpu.so"))
                          && RealPath(Path.Combine(dir, "libtorch_cpu.so")) != chosen)
            .ToList();
    }

    static string RealPath(string file) =>
        new FileInfo(file).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(file);

    /// <summary>
    /// The libtorch this process has loaded: the file behind libtorch_cpu.so, or null before TorchSharp starts.
    /// </summary>
    public static string? LoadedLibTorchFolder()
    {
        if (!File.Exists("/proc/self/maps")) return null;
        var file = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault())
            .FirstOrDefault(path => path?.EndsWith("/libtorch_cpu.so", StringComparison.Ordinal) == true);
        return file is null ? null : Path.GetDirectoryName(file);
    }

    /// <summary>
    /// The version of the libtorch this process runs on, read from its folder (not TorchSharp's <c>__version__</c>,
    /// which is the version TorchSharp was built for); "unknown" when the folder does not say.
    /// </summary>
    public static string LoadedVersion() =>
        LoadedLibTorchFolder() is { } folder ? LibTorchFolder.VersionOf(folder) ?? "unknown" : "not loaded";

    // Where the app's own natives are: a build output keeps them under runtimes/, a publish next to the app.
    static IEnumerable<string> AppLocalNativeFolders() =>
        [Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native"), AppContext.BaseDirectory];

    /// <summary>
    /// True when TorchSharp's first probe (the binding next to TorchSharp.dll or on the loader's path) succeeds.
    /// </summary>
    public static bool TorchSharpFindsItsBinding() =>
        NativeLibrary.TryLoad("LibTorchSharp", typeof(torch).Assembly, null, out _);

    /// <summary>
    /// Loads libtorch from <paramref name="libtorchDirectory"/>, then TorchSharp's binding from
    /// <paramref name="bindingPath"/>; returns the handles by the names TorchSharp asks for ("torch_cpu",
    /// "LibTorchSharp", ...).
    /// </summary>
    public static IReadOnlyDictionary<string, IntPtr> Load(string libtorchDirectory, string bindingPath)
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
        var handles = libraries.ToDictionary(path => Path.GetFileNameWithoutExtension(path)[3..], LoadLibrary);
        handles["LibTorchSharp"] = LoadLibrary(bindingPath);
        return handles;
    }

    /// <summary>
    /// <see cref="NativeLibrary.Load(string)"/> with the loader's reason in one line: .NET's message is a paragraph of
    /// advice on strace and LD_DEBUG, with dlerror's words (a missing dependency, "file too short") on its last line.
    /// </summary>
    static IntPtr LoadLibrary(string path)
    {
        try
        {
            return NativeLibrary.Load(path);
        }
        catch (DllNotFoundException e)
        {
            var reason = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Last();
            if (reason.StartsWith(path + ": ", StringComparison.Ordinal)) reason = reason[(path.Length + 2)..];
            throw new DllNotFoundException($"{path}: cannot be loaded ({reason})", e);
        }
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
