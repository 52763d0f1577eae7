using MoeLpr.Devices;
using MoeLpr.Tests.Data;
using MoeLpr.Tests.TestSupport;

namespace MoeLpr.Tests.Cli;

/// <summary>
/// The kit for a machine without .NET (a GPU box with only PyTorch): <c>dotnet publish -r linux-x64
/// -p:PublishTrimmed=true -p:WithoutLibTorch=true</c> gives a self-contained, trimmed CLI with no libtorch of its own.
/// Pointed at a libtorch folder (here the NuGet cache's CPU one), it runs the quick demo to the same results.csv as
/// the build, report included: the kit's JSON is source-generated and nothing it needs is trimmed away.
/// </summary>
public class TrimmedPublishTests
{
    static readonly Dictionary<string, string> NoVariables = [];

    [Fact]
    public void TrimmedKitWithoutLibTorchRunsTheQuickDemoAsTheBuildDoes()
    {
        using var root = new TempDirectory();
        string publish = root.File("publish");
        var published = CliRunner.RunProgram("dotnet",
            ["publish", Path.Combine(DataTestFiles.RepoRoot, "src", "MoeLpr.Cli"), "-c", "Release", "-r", "linux-x64",
             "-p:PublishTrimmed=true", "-p:WithoutLibTorch=true", "-o", publish],
            NoVariables, TimeSpan.FromMinutes(10));
        Assert.True(published.ExitCode == 0, published.Output + published.Error);
        // The kit's own code is trim-clean; only third-party assemblies may warn (rooted where they matter).
        var kitSources = Path.Combine(DataTestFiles.RepoRoot, "src") + Path.DirectorySeparatorChar;
        var kitWarnings = published.Output.Split('\n')
            .Where(line => line.Contains("warning IL", StringComparison.Ordinal)
                           && line.TrimStart().StartsWith(kitSources, StringComparison.Ordinal));
        Assert.Empty(kitWarnings);
        Assert.False(File.Exists(Path.Combine(publish, "libtorch_cpu.so")));

        string[] Demo(string output) =>
        [
            "demo", "--quick", "--threads", "1", "--device", "cpu", "--output", output,
            "--base-model", Path.Combine(DataTestFiles.RepoRoot, "data", "base-model"),
            "--dataset-info", DataTestFiles.DatasetInfo,
            "--task", Path.Combine(DataTestFiles.RepoRoot, "data", "tasks", "next_sentence.jsonl"),
        ];
        var libtorch = Path.Combine(NuGetCache.Packages, "libtorch-cpu-linux-x64", LibTorchNatives.BuiltForLibTorch,
                                    "runtimes", "linux-x64", "native");
        var trimmed = CliRunner.RunProgram(Path.Combine(publish, "MoeLpr.Cli"),
            ["--libtorch", libtorch, .. Demo(root.File("trimmed"))], NoVariables, TimeSpan.FromMinutes(5));
        Assert.True(trimmed.ExitCode == 0, trimmed.Output + trimmed.Error);
        var built = CliRunner.RunProcess(NoVariables, Demo(root.File("built")));
        Assert.True(built.ExitCode == 0, built.Output + built.Error);

        Assert.Equal(File.ReadAllText(Path.Combine(root.File("built"), "results.csv")),
                     File.ReadAllText(Path.Combine(root.File("trimmed"), "results.csv")));
        Assert.True(new FileInfo(Path.Combine(root.File("trimmed"), "report.html")).Length > 100_000);

        // The notebook engine is left out of the trimmed kit, and says so.
        var notebook = CliRunner.RunProgram(Path.Combine(publish, "MoeLpr.Cli"),
            ["--libtorch", libtorch, "notebook", "run",
                Path.Combine(DataTestFiles.RepoRoot, "notebooks", "00-quick-tour.ipynb")],
            NoVariables, TimeSpan.FromMinutes(1));
        Assert.Equal(1, notebook.ExitCode);
        Assert.StartsWith("error: this is a trimmed publish of the kit: the .NET Interactive engine", notebook.Error);
    }
}
