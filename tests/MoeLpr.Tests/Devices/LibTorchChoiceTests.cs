using MoeLpr.Devices;
using MoeLpr.Tests.Model;
using MoeLpr.Tests.TestSupport;

namespace MoeLpr.Tests.Devices;

/// <summary>
/// Which libtorch <c>moelpr</c> runs on: <c>--libtorch</c> and <c>MOELPR_LIBTORCH</c> pointed at the NuGet cache's CPU
/// libtorch (another copy of the kit's own) load that folder, as <c>moelpr doctor</c> reads it back from the process's
/// mapped libraries, and compute the same as the kit's own; a folder without libtorch is one error line naming it.
/// </summary>
public class LibTorchChoiceTests
{
    static readonly string NuGetLibTorch = Path.Combine(NuGetCache.Packages, "libtorch-cpu-linux-x64",
                                                        LibTorchNatives.BuiltForLibTorch, "runtimes",
                                                        "linux-x64", "native");
    static readonly Dictionary<string, string> NoVariables = [];

    static string LibTorchLine(string doctorOutput) =>
        doctorOutput.Split('\n').Single(line => line.StartsWith("libtorch ", StringComparison.Ordinal)).TrimEnd();

    [Fact]
    public void LibTorchOptionLoadsTheNamedFolder()
    {
        var result = CliRunner.RunProcess(NoVariables, "--libtorch", NuGetLibTorch, "doctor");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal($"libtorch   {NuGetLibTorch} (version {LibTorchNatives.BuiltForLibTorch}, --libtorch)",
            LibTorchLine(result.Output));
    }

    [Fact]
    public void EnvironmentVariableLoadsTheNamedFolder()
    {
        var result = CliRunner.RunProcess(
            new Dictionary<string, string> { [LibTorchFolder.EnvironmentVariable] = NuGetLibTorch }, "doctor");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal($"libtorch   {NuGetLibTorch} (version {LibTorchNatives.BuiltForLibTorch}, MOELPR_LIBTORCH)",
            LibTorchLine(result.Output));
    }

    [SkippableFact]
    public void WithoutEitherTheKitRunsOnItsOwnLibTorch()
    {
        Skip.If(LibTorchFolder.InstalledPyTorch() is { HasCuda: true },
            "a CUDA PyTorch is installed, so the kit picks its libtorch");
        var result = CliRunner.RunProcess(NoVariables, "doctor");
        Assert.True(result.ExitCode == 0, result.Error);
        var own = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        Assert.Equal($"libtorch   {own} (version {LibTorchNatives.BuiltForLibTorch}, the kit's own)",
            LibTorchLine(result.Output));
    }

    [Fact]
    public void UpcyclingOnTheNamedLibTorchWritesTheSameWeights()
    {
        using var root = new TempDirectory();
        string baseDir = Path.Combine(root.Path, "base"), own = Path.Combine(root.Path, "own"),
            named = Path.Combine(root.Path, "named");
        using (TinyCheckpoints.SaveDense(baseDir, TinyModels.Llama, seed: 5)) { }
        string[] Upcycle(string output) =>
            ["upcycle", "--model", baseDir, "--output", output, "--num-experts", "3", "--seed", "7"];

        Assert.Equal(0, CliRunner.Run(Upcycle(own)).ExitCode);
        var result = CliRunner.RunProcess(NoVariables, ["--libtorch", NuGetLibTorch, .. Upcycle(named)]);
        Assert.True(result.ExitCode == 0, result.Error);

        Assert.Equal(File.ReadAllBytes(Path.Combine(own, "adapter_model.safetensors")),
                     File.ReadAllBytes(Path.Combine(named, "adapter_model.safetensors")));
    }

    [Fact]
    public void MissingFolderIsOneErrorNamingIt()
    {
        var result = CliRunner.RunProcess(NoVariables, "--libtorch", "/nonexistent/torch/lib", "doctor");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: /nonexistent/torch/lib: libtorch folder not found (--libtorch)\n", result.Error);
        Assert.Equal("", result.Output);
    }

    [Fact]
    public void FolderWithoutLibTorchIsOneErrorNamingIt()
    {
        using var empty = new TempDirectory();
        var result = CliRunner.RunProcess(
            new Dictionary<string, string> { [LibTorchFolder.EnvironmentVariable] = empty.Path }, "doctor");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: {empty.Path}: no libtorch_cpu.so here, so this is not a libtorch folder " +
                     "(MOELPR_LIBTORCH); for PyTorch name its torch/lib folder\n", result.Error);
    }

    [Fact]
    public void FolderWithALibraryThatCannotLoadIsOneErrorNamingTheFile()
    {
        using var junk = new TempDirectory();
        File.WriteAllText(junk.File("libtorch_cpu.so"), "not a shared library");
        var result = CliRunner.RunProcess(NoVariables, "--libtorch", junk.Path, "doctor");
        Assert.Equal(1, result.ExitCode);
        // The warning once, though the program runs again in a child process to leave the kit's own libtorch out.
        var torchSharp = typeof(TorchSharp.torch).Assembly.GetName().Version!.ToString(3);
        Assert.Equal($"warning: {junk.Path}: the libtorch version is unknown; TorchSharp {torchSharp} is built for " +
                     $"{LibTorchNatives.BuiltForLibTorch}\n" +
                     $"error: {junk.File("libtorch_cpu.so")}: cannot be loaded (file too short)\n", result.Error);
    }
}
