using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace MoeLpr.Devices;

/// <summary>
/// The start of a kit program (the <c>moelpr</c> CLI, the benchmark): chooses the libtorch TorchSharp runs on
/// (<see cref="LibTorchFolder.Choose"/>) and loads it before anything starts TorchSharp.
/// </summary>
public static class LibTorchStartup
{
    // Set in the child process that runs the program again without the kit's own libtorch in TorchSharp's search.
    const string RelaunchedVariable = "MOELPR_RELAUNCHED_WITHOUT_OWN_LIBTORCH";

    /// <summary>The folder this process runs on; null when it runs on the kit's own libtorch.</summary>
    public static LibTorchFolder? Chosen { get; private set; }

    /// <summary>
    /// Chooses and loads the libtorch for <c>--libtorch</c> <paramref name="option"/> and <c>--device</c>
    /// <paramref name="device"/>. Returns an exit code when the program has already run, in a child process
    /// (<see cref="RunWithoutOwnLibTorch"/>), or cannot run (one error line on <paramref name="error"/>); null to go
    /// on.
    /// </summary>
    public static int? Start(string? option, string device, string[] args, TextWriter error)
    {
        try
        {
            var folder = LibTorchFolder.Choose(option, device);
            if (folder is null) return null;
            if (LibTorchNatives.CompetingLibTorchFolders(folder).Count > 0 &&
                Environment.GetEnvironmentVariable(RelaunchedVariable) is null
                && RunWithoutOwnLibTorch(args) is { } exitCode)
                return exitCode;
            // After the relaunch: the child process that runs the program says it once.
            if (folder.VersionWarning is { } warning) error.WriteLine($"warning: {warning}");
            LibTorchNatives.Use(folder);
            Chosen = folder;
            return null;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or DllNotFoundException)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    /// <summary>
    /// Runs the program again as <c>dotnet exec --depsfile D PROGRAM.dll ARGS</c>, where D is its deps.json without
    /// TorchSharp's and libtorch's native files: the app's runtimes/ folder then leaves the native search, and
    /// TorchSharp's start-up binds to the chosen libtorch instead of loading the kit's own beside it. Null when the
    /// program has no deps.json or no dotnet host to run it with (a self-contained publish): the caller reports why.
    /// </summary>
    static int? RunWithoutOwnLibTorch(string[] args)
    {
        var program = Assembly.GetEntryAssembly()?.Location ?? "";
        var deps = Path.ChangeExtension(program, ".deps.json");
        var dotnet = Path.GetFullPath(
            Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));
        if (program.Length == 0 || !File.Exists(deps) || !File.Exists(dotnet)) return null;
        var start = new ProcessStartInfo(dotnet, ["exec", "--depsfile", DepsWithoutLibTorch(deps), program, .. args]);
        start.Environment[RelaunchedVariable] = "1";
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"{dotnet}: could not start");
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>
    /// A copy of <paramref name="deps"/> without the native files of TorchSharp and libtorch, beside it because the
    /// host resolves the app's own assemblies from the deps file's folder; named by the original's hash so it is
    /// written once.
    /// </summary>
    static string DepsWithoutLibTorch(string deps)
    {
        var text = File.ReadAllBytes(deps);
        var copy = deps[..^".deps.json".Length] +
            $".without-libtorch-{Convert.ToHexString(SHA256.HashData(text))[..12]}.deps.json";
        if (File.Exists(copy)) return copy;
        var root = JsonNode.Parse(text)!;
        foreach (var (_, libraries) in root["targets"]!.AsObject())
            foreach (var (name, library) in libraries!.AsObject())
            {
                if (!name.StartsWith("TorchSharp/", StringComparison.Ordinal) &&
                    !name.StartsWith("libtorch-", StringComparison.Ordinal)) continue;
                library!.AsObject().Remove("native");
                if (library["runtimeTargets"] is JsonObject targets)
                    foreach (var file in targets.Where(t => (string?)t.Value?["assetType"] == "native")
                        .Select(t => t.Key).ToList())
                        targets.Remove(file);
            }
        var temporary = copy + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, root.ToJsonString());
        File.Move(temporary, copy, overwrite: true);
        return copy;
    }
}
