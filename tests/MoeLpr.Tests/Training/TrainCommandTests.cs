using MoeLpr.Checkpoints;
using MoeLpr.Model;
using MoeLpr.Tests.Data;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;
using MoeLpr.Upcycling;

namespace MoeLpr.Tests.Training;

/// <summary>The <c>train</c> and <c>eval</c> commands end to end, and their one-line errors for bad input.</summary>
public class TrainCommandTests
{
    static string[] Train(TinyTrainingWorkspace ws, string stage, string datasets, string output,
        params string[] more) =>
    [
        "train", "--stage", stage, "--model", ws.ModelDir, "--dataset", datasets, "--dataset-info", ws.DatasetInfo,
        "--output", output, "--cutoff_len", "32", "--per_device_train_batch_size", "2", "--max-steps", "2",
        .. stage == "1" ? new[] { "--moe_num_experts", "3" } : [], "--device", "cpu", "--threads", "1", .. more,
    ];

    [Fact]
    public void TrainThenEval_WritesAdapterMetricsAndPerplexityCsv()
    {
        using var ws = new TinyTrainingWorkspace();
        string stage1 = ws.Output("stage1");
        var train = CliRunner.Run(Train(ws, "1", "new_text", stage1, "--logging-steps", "1"));
        Assert.True(train.ExitCode == 0, train.Error);
        Assert.Contains("step 2/2", train.Output);
        Assert.Contains("ETA", train.Output);
        Assert.True(File.Exists(Path.Combine(stage1, PeftAdapterFiles.WeightsFileName)));
        Assert.True(File.Exists(Path.Combine(stage1, "tokenizer.json")), "every run folder carries the tokenizer");
        Assert.False(File.Exists(Path.Combine(stage1, RunLock.FileName)), "the run released its folder");
        Assert.Equal(2, MetricsFile.Read(Path.Combine(stage1, MetricsFile.FileName)).Count);
        Assert.True(TrainerState.Load(Path.Combine(stage1, TrainerState.FileName)).Completed);

        string csv = ws.Output("ppl.csv");
        var eval = CliRunner.Run("eval", "--model", ws.ModelDir, "--adapter", stage1, "--dataset", "old_text,new_text",
                                 "--dataset-info", ws.DatasetInfo, "--cutoff-len", "32", "--device", "cpu",
                                 "--output", csv);
        Assert.True(eval.ExitCode == 0, eval.Error);
        Assert.Contains("new_text", eval.Output);
        var lines = File.ReadAllLines(csv);
        Assert.Equal(5, lines.Length); // header, 2 datasets, old and new groups
        Assert.StartsWith("old_text,dataset,old,", lines[1]);
    }

    /// <summary>
    /// The kernel options change how stage 1 runs, not what it learns: <c>--moe-dispatch grouped</c> runs the experts
    /// grouped on the CPU, where auto keeps the loop, and <c>--attention sdpa</c> takes scaled_dot_product_attention,
    /// where auto keeps HF's eager attention. The plan line says which ran; the losses agree to float32 rounding; a bad
    /// value is refused naming the option.
    /// </summary>
    [Theory]
    [InlineData("--moe-dispatch", "grouped", "experts run loop", "experts run grouped", "auto, loop or grouped")]
    [InlineData("--attention", "sdpa", "attention eager", "attention sdpa", "auto, eager or sdpa")]
    public void KernelOptions_ChangeHowTrainingRunsNotWhatItLearns(string option, string value, string autoSays,
        string chosenSays, string choices)
    {
        using var ws = new TinyTrainingWorkspace();
        string auto = ws.Output("auto"), chosen = ws.Output(value);
        var autoRun = CliRunner.Run(Train(ws, "1", "new_text", auto, "--logging-steps", "1"));
        var chosenRun = CliRunner.Run(Train(ws, "1", "new_text", chosen, "--logging-steps", "1", option, value));

        Assert.True(autoRun.ExitCode == 0, autoRun.Error);
        Assert.True(chosenRun.ExitCode == 0, chosenRun.Error);
        Assert.Contains(autoSays, autoRun.Output);
        Assert.Contains(chosenSays, chosenRun.Output);
        var losses = new[] { auto, chosen }
            .Select(dir => MetricsFile.Read(Path.Combine(dir, MetricsFile.FileName)).Select(m => m.Loss).ToList())
            .ToList();
        Assert.Equal(2, losses[1].Count);
        for (int i = 0; i < 2; i++)
            Assert.True(Math.Abs(losses[0][i] - losses[1][i]) < 1e-4 * Math.Abs(losses[0][i]),
                $"step {i + 1}: loss {losses[1][i]} with {option} {value} against {losses[0][i]} with auto");

        var bad = CliRunner.Run(Train(ws, "1", "new_text", ws.Output("bad"), option, "fast"));
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains($"{option}: 'fast' is not {choices}", bad.Error);
        // Help shows the values as they are typed, not as the enum's members are named.
        var help = CliRunner.Run("train", "--help");
        Assert.Contains($"{option} <{choices.Replace(", ", "|").Replace(" or ", "|")}>", help.Output);
        Assert.Contains("[default: auto]", help.Output);
    }

    /// <summary>
    /// bfloat16 training at the paper's learning rate (5e-5) moves the new experts away from their copy of the MLP:
    /// through float32 masters 76 % of one projection's weights moved in 20 steps, where updating bfloat16 in place
    /// moved 23 % (every step under half a weight's spacing was lost).
    /// </summary>
    [Fact]
    public void Bfloat16Weights_TrainAndSaveAsBfloat16()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string output = ws.Output("bf16");
        var args = Train(ws, "1", "new_text", output, "--dtype", "bfloat16", "--logging-steps", "1", "--lr", "5e-5");
        args[Array.IndexOf(args, "--max-steps") + 1] = "20";
        var train = CliRunner.Run(args);
        Assert.True(train.ExitCode == 0, train.Error);
        var adapter = SafeTensors.Load(Path.Combine(output, PeftAdapterFiles.WeightsFileName));
        Assert.All(adapter.Values, t => Assert.Equal(TorchSharp.torch.ScalarType.BFloat16, t.dtype));
        Assert.All(MetricsFile.Read(Path.Combine(output, MetricsFile.FileName)),
            m => Assert.True(double.IsFinite(m.Loss)));

        var copy = SafeTensors.Load(Path.Combine(ws.ModelDir, HfModelDirectory.WeightsFileName))
            ["model.layers.0.mlp.gate_proj.weight"].to_type(TorchSharp.torch.ScalarType.BFloat16);
        var trained = adapter[$"{PeftAdapterFiles.KeyPrefix}model.layers.0.mlp.moe_experts.0.gate_proj.weight"];
        double moved = trained.ne(copy).to_type(TorchSharp.torch.ScalarType.Float32).mean().item<float>();
        Assert.True(moved > 0.5, $"{moved:P1} of the trained expert's gate weights moved");
    }

    /// <summary>
    /// An option the stage does not use is named, so that <c>--stage 2 --num-experts 6</c> does not pass for a
    /// six-expert run; options the stage uses, or left at their defaults, say nothing.
    /// </summary>
    [Fact]
    public void OptionsTheStageDoesNotUse_AreWarnedOf()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        // An unknown dataset stops each run after the options are read, before any training.
        var full = CliRunner.Run(Train(ws, "full", "klingon", ws.Output("a"), "--num-experts", "6", "--lora-rank", "4",
            "--lpr-loss-coef", "0.5", "--aux-loss-coef", "0.02", "--replay-max-samples", "3"));
        Assert.Equal(
            ["--num-experts", "--aux-loss-coef", "--lpr-loss-coef", "--replay-max-samples", "--lora-rank"],
            Warnings(full).Select(w => w.Split(' ')[1]));
        Assert.All(Warnings(full), w => Assert.EndsWith("is not used by --stage full", w));

        var stage1 = CliRunner.Run(Train(ws, "1", "klingon", ws.Output("b"), "--aux-loss-coef", "0.02", "--topk", "2"));
        Assert.Empty(Warnings(stage1));
        var continued = CliRunner.Run(Train(ws, "1", "klingon", ws.Output("c"), "--adapter", ws.Output("none")));
        Assert.Equal(["warning: --num-experts is not used by a run that continues --adapter (it keeps the adapter's " +
                      "shape)"], Warnings(continued));
        var lora = CliRunner.Run(Train(ws, "lora", "klingon", ws.Output("d"), "--lora-rank", "4"));
        Assert.Empty(Warnings(lora));

        static IEnumerable<string> Warnings(CliRunner.Result run) =>
            run.Error.Split('\n').Where(line => line.StartsWith("warning:")).ToList();
    }

    [Fact]
    public void BadInput_GivesOneLineErrors()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);

        var unknown = CliRunner.Run(Train(ws, "1", "new_text,klingon", ws.Output("a")));
        Assert.Equal(1, unknown.ExitCode);
        Assert.StartsWith($"error: {ws.DatasetInfo}: unknown dataset 'klingon'", unknown.Error);

        var noAdapter = CliRunner.Run(Train(ws, "2", "new_text,old_text", ws.Output("b")));
        Assert.Equal(1, noAdapter.ExitCode);
        Assert.Contains("stage 2 needs --adapter", noAdapter.Error);

        var badStage = CliRunner.Run(Train(ws, "3", "new_text", ws.Output("c")));
        Assert.Equal(1, badStage.ExitCode);
        Assert.Contains("--stage: '3' is not 1, 2, full or lora", badStage.Error);

        var badForm = CliRunner.Run(Train(ws, "1", "new_text", ws.Output("e"), "--lpr-loss-form", "kl"));
        Assert.Equal(1, badForm.ExitCode);
        Assert.Contains("--lpr-loss-form: 'kl' is not nll or reference", badForm.Error);

        var float16 = CliRunner.Run(Train(ws, "1", "new_text", ws.Output("i"), "--dtype", "float16"));
        Assert.Equal(1, float16.ExitCode);
        Assert.Contains("training in float16 needs loss scaling", float16.Error);

        // A negative weight turns a loss into a reward: imbalance in stage 1, leaving the frozen expert in stage 2.
        var negativeBalance = CliRunner.Run(Train(ws, "1", "new_text", ws.Output("j"), "--aux-loss-coef", "-0.01"));
        Assert.Equal((1, "error: --aux-loss-coef must be a finite number of 0 or more (got -0.01)"),
            (negativeBalance.ExitCode, negativeBalance.Error.Trim()));
        var nanLpr = CliRunner.Run(Train(ws, "1", "new_text", ws.Output("k"), "--lpr-loss-coef", "NaN"));
        Assert.Equal(1, nanLpr.ExitCode);
        Assert.Contains("--lpr-loss-coef must be a finite number of 0 or more (got NaN)", nanLpr.Error);

        // Past float32's range the update could not be applied (libtorch failed at the first step).
        var hugeRate = CliRunner.Run(Train(ws, "full", "new_text", ws.Output("f"), "--lr", "1e39"));
        Assert.Equal(1, hugeRate.ExitCode);
        Assert.Contains("learning rate must be a positive number within float32's range", hugeRate.Error);

        // An adapter made for a model with another hidden size.
        string foreign = ws.Output("foreign");
        using (var other = TinyTrainingWorkspace.NewModel(
            ws.Config with { HiddenSize = 24, NumAttentionHeads = 4, NumKeyValueHeads = 2 }, seed: 9))
        {
            var config = new MoeConfig { NumExperts = 3, TopK = 2 };
            Upcycler.Upcycle(other, config, seed: 1);
            MoeAdapter.Save(other, config, foreign);
        }
        var mismatch = CliRunner.Run(Train(ws, "2", "new_text,old_text", ws.Output("d"), "--adapter", foreign));
        Assert.Equal(1, mismatch.ExitCode);
        Assert.Contains(Path.Combine(foreign, PeftAdapterFiles.WeightsFileName), mismatch.Error);
        Assert.Contains("shape", mismatch.Error);

        var evalUnknown = CliRunner.Run("eval", "--model", ws.ModelDir, "--dataset", "nope", "--dataset-info",
            ws.DatasetInfo);
        Assert.Equal(1, evalUnknown.ExitCode);
        Assert.Contains("unknown dataset 'nope'", evalUnknown.Error);

        var noModel = CliRunner.Run(Train(ws, "1", "new_text", ws.Output("g")).Select(
            arg => arg == ws.ModelDir ? ws.ModelDir + "-missing" : arg).ToArray());
        Assert.Equal(1, noModel.ExitCode);
        Assert.StartsWith($"error: {ws.ModelDir}-missing: model folder not found", noModel.Error);
        var noThreads = CliRunner.Run([.. Train(ws, "1", "new_text", ws.Output("h")).SkipLast(2), "--threads", "0"]);
        Assert.Equal(1, noThreads.ExitCode);
        Assert.StartsWith("error: the thread count (--threads) must be at least 1 (got 0)", noThreads.Error);

        // A CUDA graph records kernels: on the CPU there are none to record.
        var graphsOnCpu = CliRunner.Run(Train(ws, "1", "new_text", ws.Output("l"), "--cuda-graphs"));
        Assert.Equal((1, "error: CUDA graphs need a CUDA device (training runs on cpu)"),
            (graphsOnCpu.ExitCode, graphsOnCpu.Error.Trim()));

        var csvIsAFolder = CliRunner.Run("eval", "--model", ws.ModelDir, "--dataset", "new_text", "--dataset-info",
            ws.DatasetInfo, "--cutoff_len", "32", "--output", ws.ModelDir);
        Assert.Equal(1, csvIsAFolder.ExitCode);
        Assert.Contains(ws.ModelDir, csvIsAFolder.Error);

        Assert.All(new[]
            {
                unknown, noAdapter, badStage, badForm, float16, hugeRate, mismatch, evalUnknown, noModel, noThreads,
                csvIsAFolder,
            },
            r => Assert.Single(r.Error.TrimEnd().Split('\n')));
    }

    [Fact]
    public void FreshRunIntoAFolderWithCheckpoints_IsRefused()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string output = ws.Output("run");
        Assert.Equal(0, CliRunner.Run(Train(ws, "full", "old_text", output, "--save-steps", "1")).ExitCode);
        Assert.True(File.Exists(Path.Combine(output, "tokenizer.json")),
            "a full fine-tune output is a complete HF folder");
        using (var trained = HfModelDirectory.Load(output)) Assert.Empty(trained.MoeBlocks);

        var again = CliRunner.Run(Train(ws, "full", "old_text", output));
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already holds checkpoint-2", again.Error);
    }

    /// <summary>
    /// A finished run without checkpoints (the default: no --save-steps) is not overwritten either: a second train
    /// into its folder, such as stage 2 writing over the stage-1 adapter it trains, is refused, and so is an upcycle,
    /// which would replace the trained experts with copies of the MLP.
    /// </summary>
    [Fact]
    public void FreshRunIntoAFolderWithAFinishedRun_IsRefused()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string output = ws.Output("stage1");
        Assert.Equal(0, CliRunner.Run(Train(ws, "1", "new_text", output)).ExitCode);
        var weights = File.ReadAllBytes(Path.Combine(output, PeftAdapterFiles.WeightsFileName));

        var over = CliRunner.Run(Train(ws, "2", "new_text,old_text", output, "--adapter", output));
        Assert.Equal(1, over.ExitCode);
        Assert.Contains($"{output}: already holds a finished run", over.Error);
        var upcycle = CliRunner.Run("upcycle", "--model", ws.ModelDir, "--output", output, "--num-experts", "3");
        Assert.Equal(1, upcycle.ExitCode);
        Assert.Contains($"{output}: already holds a finished run", upcycle.Error);
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(output, PeftAdapterFiles.WeightsFileName)));
    }

    /// <summary>
    /// A damaged file in the checkpoint <c>--resume</c> takes is one error naming it (a truncated RNG state used to
    /// abort the process inside libtorch), and a folder named like a checkpoint past any step count is not taken for
    /// one.
    /// </summary>
    [Fact]
    public void ResumeFromADamagedCheckpoint_IsAOneLineErrorNamingTheFile()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string output = ws.Output("run");
        string[] resume = [.. Train(ws, "1", "new_text", output, "--save-steps", "1"), "--resume"];
        Assert.Equal(0, CliRunner.Run(Train(ws, "1", "new_text", output, "--save-steps", "1")).ExitCode);
        string checkpoint = TrainingCheckpoint.PathFor(output, 2);
        var beyond = Directory.CreateDirectory(Path.Combine(output, "checkpoint-99999999999")).FullName;
        File.Copy(Path.Combine(checkpoint, TrainerState.FileName), Path.Combine(beyond, TrainerState.FileName));
        var resumed = CliRunner.Run(resume);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains($"resuming {checkpoint}", resumed.Output);

        foreach (var file in new[] { TrainingCheckpoint.RngFileName, TrainingCheckpoint.OptimizerFileName })
        {
            string path = Path.Combine(checkpoint, file);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
            var damaged = CliRunner.Run(resume);
            Assert.Equal(1, damaged.ExitCode);
            Assert.StartsWith($"error: {path}: ", damaged.Error);
            Assert.Single(damaged.Error.TrimEnd().Split('\n'));
            File.WriteAllBytes(path, bytes);
        }
    }

    /// <summary>
    /// A tokenizer of another model (the shipped 8,000-token tokenizer with the 4,096-token base model) is one error
    /// naming it in every command that pairs them, where the embedding lookup used to fail inside libtorch.
    /// </summary>
    [Fact]
    public void ATokenizerOfAnotherModel_IsOneErrorNamingIt()
    {
        using var temp = new TempDirectory();
        string data = Path.Combine(DataTestFiles.RepoRoot, "data"), tokenizer = Path.Combine(data, "tokenizer");
        string[] pair = ["--model", Path.Combine(data, "base-model"), "--tokenizer", tokenizer, "--device", "cpu"];
        string[] dataset = ["--dataset", "en_test", "--dataset-info", Path.Combine(data, "dataset_info.json")];
        var runs = new[]
        {
            CliRunner.Run(["eval", .. pair, .. dataset]),
            CliRunner.Run(["train", "--stage", "full", .. pair, .. dataset, "--output", temp.File("full"),
                "--max-steps", "1"]),
            CliRunner.Run(["tasks", .. pair, "--task", Path.Combine(data, "tasks", "next_sentence.jsonl"),
                "--output", temp.File("tasks")]),
        };
        Assert.All(runs, run =>
        {
            Assert.Equal(1, run.ExitCode);
            Assert.Single(run.Error.TrimEnd().Split('\n'));
            Assert.Contains("but the model has vocab_size 4096", run.Error);
        });
        Assert.StartsWith($"error: {tokenizer}: the tokenizer produces id ", runs[0].Error);
        Assert.StartsWith($"error: {tokenizer}: the tokenizer produces id ", runs[1].Error);
    }

    [Fact]
    public void ADatasetShorterThanOneBlock_IsOneErrorNamingItsFile()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        var args = Train(ws, "1", "new_text", ws.Output("short"));
        args[Array.IndexOf(args, "--cutoff_len") + 1] = "100000";
        var run = CliRunner.Run(args);
        Assert.Equal(1, run.ExitCode);
        Assert.Single(run.Error.TrimEnd().Split('\n'));
        Assert.Contains("fewer than cutoff_len = 100000 tokens in all", run.Error);
        Assert.Contains(".jsonl", run.Error);
    }

    /// <summary>NaN perplexity is a broken model, not a score: eval shows the table, then fails naming the model.</summary>
    [Fact]
    public void EvalOfAModelWithNaNWeights_ShowsTheTableAndFails()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string broken = ws.Output("nan-model");
        Directory.CreateDirectory(broken);
        foreach (var file in Directory.GetFiles(ws.ModelDir))
            File.Copy(file, Path.Combine(broken, Path.GetFileName(file)));
        string weights = Path.Combine(broken, HfModelDirectory.WeightsFileName);
        var tensors = SafeTensors.Load(weights);
        tensors["model.norm.weight"].fill_(float.NaN);
        SafeTensors.Save(weights, tensors);

        var run = CliRunner.Run("eval", "--model", broken, "--dataset", "new_text", "--dataset-info", ws.DatasetInfo,
            "--cutoff_len", "32", "--device", "cpu", "--threads", "1");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("new_text", run.Output);
        Assert.Equal($"error: {broken}: the mean NLL is NaN on new_text (NaN in the weights or the adapter?)",
            run.Error.TrimEnd());
    }
}
