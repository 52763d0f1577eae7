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
            Assert.Equal(
                $"error: {ws.ModelDir}: the output folder is not empty; choose a new one (nothing was written)",
                run.Error.TrimEnd());
        });
        Assert.Equal(before.Keys.Order(), Directory.GetFiles(ws.ModelDir).Order());
        Assert.All(before, file => Assert.Equal(file.Value, File.ReadAllBytes(file.Key)));

        string exported = ws.Output("mixtral");
        Assert.Equal(0, CliRunner.Run("export", "--model", ws.ModelDir, "--adapter", adapter, "--output", exported)
            .ExitCode);
        Assert.True(File.Exists(Path.Combine(exported, HfModelDirectory.WeightsFileName)));
    }

    /// <summary>
    /// Values a command cannot use are one line naming the option, before anything is written: they used to give an
    /// empty tokenizer or task file, one-byte shards, or a recipe script that fails on the GPU machine.
    /// </summary>
    [Fact]
    public void ValuesACommandCannotUse_AreOneLineBeforeAnythingIsWritten()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string[] Recipe(params string[] more) =>
        [
            "recipe", "--stage", "1", "--model", ws.ModelDir, "--dataset", "new_text", "--dataset-info",
            ws.DatasetInfo, "--output", ws.Output("recipe"), .. more,
        ];
        var cases = new (string[] Args, string Message)[]
        {
            (["tokenizer", "train", "--dataset", ",", "--dataset-info", ws.DatasetInfo, "--output", ws.Output("tok")],
                "no dataset given (--dataset a,b,c)"),
            (["make-task", "--corpus", ws.Output("corpus"), "--languages", ",", "--out", ws.Output("task.jsonl")],
                "no language given (--languages en,es,…)"),
            (["export", "--model", ws.ModelDir, "--adapter", ws.ModelDir, "--output", ws.Output("mixtral"),
                "--max-shard-bytes", "0"], "--max-shard-bytes must be at least 1 (got 0)"),
            (Recipe("--num-experts", "0"), "--num-experts/--topk"),
            (Recipe("--topk", "9"), "--num-experts/--topk"),
            (Recipe("--master-port", "70000"), "--master-port must be a TCP port, 1 to 65535 (got 70000)"),
            (Recipe("--max-samples", "-1"), "max samples (--max-samples) cannot be negative (got -1)"),
            (Recipe("--aux-loss-coef", "-1"), "--aux-loss-coef must be a finite number of 0 or more (got -1)"),
            (Recipe("--replay-max-samples", "-2"), "max samples (--replay-max-samples) cannot be negative (got -2)"),
            (["demo", "--quick", "--base-model", ws.ModelDir + "-missing", "--output", ws.Output("demo")],
                $"{ws.ModelDir}-missing: model folder not found"),
            // --model, as every other command names it
            (["demo", "--quick", "--model", ws.ModelDir + "-gone", "--output", ws.Output("demo")],
                $"{ws.ModelDir}-gone: model folder not found"),
        };
        foreach (var (args, message) in cases)
        {
            var run = CliRunner.Run(args);
            Assert.True(run.ExitCode == 1, $"{string.Join(' ', args)}: exit code {run.ExitCode}");
            Assert.Single(run.Error.TrimEnd().Split('\n'));
            Assert.Contains(message, run.Error);
        }
        Assert.All(new[] { "tok", "task.jsonl", "mixtral", "recipe", "demo" },
            name => Assert.False(Path.Exists(ws.Output(name)), $"{name} was written"));
    }
}
