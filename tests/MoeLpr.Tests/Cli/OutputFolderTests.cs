using MoeLpr.Checkpoints;
using MoeLpr.Tests.Training;
using MoeLpr.Tests.TestSupport;

namespace MoeLpr.Tests.Cli;

/// <summary>
/// Commands that write a whole folder (export, recipe, tokenizer train) write only into a new or empty one: pointed at
/// a model's folder they refuse, and the folder is as it was (an export over its own base model used to replace the
/// base's config and weights with the Mixtral ones before failing).
/// </summary>
public class OutputFolderTests
{
    [Fact]
    public void AFolderWritingCommand_RefusesAFolderThatHoldsFiles_AndLeavesItAsItWas()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string adapter = ws.Output("adapter");
        Assert.Equal(0, CliRunner.Run("upcycle", "--model", ws.ModelDir, "--output", adapter, "--num-experts", "3")
            .ExitCode);
        var before = Directory.GetFiles(ws.ModelDir).ToDictionary(f => f, File.ReadAllBytes);

        var runs = new[]
        {
            CliRunner.Run("export", "--model", ws.ModelDir, "--adapter", adapter, "--output", ws.ModelDir),
            CliRunner.Run("recipe", "--stage", "1", "--model", ws.ModelDir, "--dataset", "new_text", "--dataset-info",
                ws.DatasetInfo, "--output", ws.ModelDir),
            CliRunner.Run("tokenizer", "train", "--dataset", "new_text", "--dataset-info", ws.DatasetInfo,
                "--vocab-size", "300", "--output", ws.ModelDir),
        };
        Assert.All(runs, run =>
        {
            Assert.Equal(1, run.ExitCode);
            Assert.Equal($"error: {ws.ModelDir}: the output folder is not empty; choose a new one (nothing was written)",
                run.Error.TrimEnd());
        });
        Assert.Equal(before.Keys.Order(), Directory.GetFiles(ws.ModelDir).Order());
        Assert.All(before, file => Assert.Equal(file.Value, File.ReadAllBytes(file.Key)));

        string exported = ws.Output("mixtral");
        Assert.Equal(0, CliRunner.Run("export", "--model", ws.ModelDir, "--adapter", adapter, "--output", exported)
            .ExitCode);
        Assert.True(File.Exists(Path.Combine(exported, HfModelDirectory.WeightsFileName)));
    }
}
