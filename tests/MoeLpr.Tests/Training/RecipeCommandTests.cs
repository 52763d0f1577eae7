using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using MoeLpr.Checkpoints;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Training.Recipes;

namespace MoeLpr.Tests.Training;

/// <summary>
/// <c>moelpr recipe</c>: golden files pin the generated stage-1 and stage-2 runs (under TestData/Recipes; paths of the
/// temp workspace read <c>{ROOT}</c>; set MOELPR_UPDATE_GOLDEN=1 to rewrite them after a deliberate change), every
/// flag follows the kit option it maps, the script runs as written (a stand-in <c>deepspeed</c> records its
/// arguments), and bad input is one line.
/// </summary>
public class RecipeCommandTests
{
    static string Golden(string path, [CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "TestData", "Recipes", path);

    static string[] Recipe(TinyTrainingWorkspace ws, string stage, string output, params string[] more) =>
    [
        "recipe", "--stage", stage, "--model", ws.ModelDir, "--dataset-info", ws.DatasetInfo, "--output", output,
        .. more,
    ];

    /// <summary>A stage-1 adapter of the workspace's model (3 experts, top-2) for stage-2 recipes.</summary>
    static string Stage1Adapter(TinyTrainingWorkspace ws)
    {
        string adapter = ws.Output("stage1");
        var upcycle = CliRunner.Run("upcycle", "--model", ws.ModelDir, "--output", adapter, "--num-experts", "3");
        Assert.True(upcycle.ExitCode == 0, upcycle.Error);
        return adapter;
    }

    static void AssertMatchesGolden(TinyTrainingWorkspace ws, string recipe, string goldenFolder)
    {
        var files = Directory.GetFiles(recipe, "*", SearchOption.AllDirectories)
                             .Select(f => Path.GetRelativePath(recipe, f)).Order(StringComparer.Ordinal).ToList();
        string goldenDir = Golden(goldenFolder);
        var expectedFiles = Directory.Exists(goldenDir)
            ? Directory.GetFiles(goldenDir, "*", SearchOption.AllDirectories)
                       .Select(f => Path.GetRelativePath(goldenDir, f)).Order(StringComparer.Ordinal).ToList()
            : [];
        bool update = Environment.GetEnvironmentVariable("MOELPR_UPDATE_GOLDEN") == "1";
        if (!update) Assert.Equal(expectedFiles, files);
        foreach (var file in files)
        {
            string actual = File.ReadAllText(Path.Combine(recipe, file)).Replace(ws.Root, "{ROOT}");
            string golden = Golden(Path.Combine(goldenFolder, file));
            if (update)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(golden)!);
                File.WriteAllText(golden, actual);
                continue;
            }
            Assert.True(actual == File.ReadAllText(golden),
                        $"{file} differs from {golden} (MOELPR_UPDATE_GOLDEN=1 rewrites it):\n{actual}");
        }
    }

    /// <summary>The script's flags after <c>src/train_bash.py</c>: flag → value ("" for a switch).</summary>
    static Dictionary<string, string> FlagsOf(string script)
    {
        string command = File.ReadAllText(script).Split("src/train_bash.py")[1].Replace("\\\n", " ");
        var flags = new Dictionary<string, string>();
        string? last = null;
        foreach (var token in command.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (token.StartsWith("--", StringComparison.Ordinal)) flags[last = token] = "";
            else flags[last!] = token;
        }
        return flags;
    }

    [Fact]
    public void StageOneRecipe_MatchesTheGoldenFiles()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string recipe = ws.Output("recipe1");

        var result = CliRunner.Run(Recipe(ws, "1", recipe, "--dataset", "new_text", "--moe_num_experts", "3",
            "--topk", "2", "--aux_loss_coef", "0.01", "--cutoff_len", "32", "--per_device_train_batch_size", "2",
            "--gradient_accumulation_steps", "4", "--learning_rate", "5e-5", "--max-steps", "100", "--save-steps", "50",
            "--dtype", "bfloat16", "--num-gpus", "4"));

        Assert.True(result.ExitCode == 0, result.Error);
        string info = Path.Combine("data", "dataset_info.json");
        Assert.Contains($"wrote {recipe}: stage1.sh, ds_config.json, {info}, README.md", result.Output);
        Assert.Contains("warning: ", result.Output); // a llama base: the released code patches only Qwen2
        AssertMatchesGolden(ws, recipe, "stage1");
    }

    [Fact]
    public void StageTwoRecipe_MatchesTheGoldenFiles()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string adapter = Stage1Adapter(ws), recipe = ws.Output("recipe2");

        var result = CliRunner.Run(Recipe(ws, "2", recipe, "--adapter", adapter, "--dataset", "new_text,old_text",
            "--max_samples", "8", "--lpr_loss_coef", "0.1", "--cutoff_len", "32", "--batch-size", "4",
            "--grad-accum", "8", "--save-steps", "0", "--seed", "3"));

        Assert.True(result.ExitCode == 0, result.Error);
        AssertMatchesGolden(ws, recipe, "stage2");
    }

    public static TheoryData<string, string[], string, string?> FlagCases => new()
    {
        { "1", ["--num-experts", "6"], "--moe_num_experts", "6" },
        { "1", ["--topk", "1"], "--topk", "1" },
        { "1", ["--aux-loss-coef", "0.001"], "--aux_loss_coef", "0.001" },
        { "1", ["--aux_loss_coef", "1"], "--aux_loss_coef", "1.0" },
        { "1", ["--lr", "0.0002"], "--learning_rate", "0.0002" },
        { "1", ["--cutoff-len", "1024"], "--cutoff_len", "1024" },
        { "1", ["--batch-size", "16"], "--per_device_train_batch_size", "16" },
        { "1", ["--grad-accum", "4"], "--gradient_accumulation_steps", "4" },
        { "1", ["--warmup-steps", "20"], "--warmup_steps", "20" },
        { "1", ["--max-grad-norm", "0.5"], "--max_grad_norm", "0.5" },
        { "1", ["--logging-steps", "5"], "--logging_steps", "5" },
        { "1", ["--save-steps", "500"], "--save_steps", "500" },
        { "1", ["--save-steps", "0"], "--save_strategy", "no" },
        { "1", ["--seed", "3"], "--seed", "3" },
        { "1", ["--max-samples", "50000"], "--max_samples", "50000" },
        { "1", ["--max-steps", "7"], "--max_steps", "7" },
        { "1", ["--epochs", "2"], "--num_train_epochs", "2.0" },
        // the reference scripts' spelling and type: a float, possibly fractional
        { "1", ["--num_train_epochs", "1.5"], "--num_train_epochs", "1.5" },
        { "1", ["--dtype", "bfloat16"], "--bf16", "" },
        { "1", ["--dtype", "float16"], "--fp16", "" },
        { "1", ["--dataset", "new_text,old_text"], "--dataset", "new_text,old_text" },
        { "2", ["--lpr-loss-coef", "0.5"], "--lpr_loss_coef", "0.5" },
        { "2", ["--max_samples", "100"], "--max_samples", "100" },
        { "2", [], "--train_only_router", "" },
        { "2", [], "--generate_lang_mask", "" },
        { "1", [], "--moe_num_experts", "4" },
        { "1", [], "--lpr_loss_coef", null },
        { "1", [], "--bf16", null },
        { "1", [], "--max_steps", null },
        { "1", [], "--num_train_epochs", "1.0" },
        { "2", [], "--moe_num_experts", null },
        { "2", [], "--aux_loss_coef", null },
    };

    /// <summary>Each kit option sets its flag to its value (null: the flag is absent).</summary>
    [Theory]
    [MemberData(nameof(FlagCases))]
    public void EveryFlagFollowsTheKitOption(string stage, string[] options, string flag, string? value)
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string recipe = ws.Output("recipe");
        string[] stageArgs = stage == "2" ? ["--adapter", Stage1Adapter(ws), "--dataset", "new_text,old_text"] : [];
        var args = Recipe(ws, stage, recipe, [.. stageArgs, .. options]).ToList();
        if (!args.Contains("--dataset")) args.AddRange(["--dataset", "new_text"]);

        var result = CliRunner.Run([.. args]);

        Assert.True(result.ExitCode == 0, result.Error);
        var flags = FlagsOf(Path.Combine(recipe, LlamaFactoryRecipe.ScriptName(
            stage == "2" ? MoeLpr.Training.TrainingStage.Stage2 : MoeLpr.Training.TrainingStage.Stage1)));
        if (value is null) Assert.False(flags.ContainsKey(flag), $"{flag} should be absent");
        else Assert.Equal(value, flags.GetValueOrDefault(flag));
    }

    /// <summary>The recipe writes stages 1 and 2 only, and LLaMA-Factory packs the data itself.</summary>
    [Fact]
    public void OptionsTheRecipeDoesNotUse_AreWarnedOf()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        var result = CliRunner.Run(Recipe(ws, "1", ws.Output("recipe"), "--dataset", "new_text", "--lora-rank", "4",
            "--cache-dir", ws.Output("cache"), "--lpr-loss-coef", "0.5", "--cuda-graphs"));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(
        [
            "warning: --lpr-loss-coef is not used by --stage 1", "warning: --lora-rank is not used by recipe",
            "warning: --cache-dir is not used by recipe (LLaMA-Factory packs the data itself)",
            "warning: --cuda-graphs is not used by recipe (LLaMA-Factory runs its own training loop)",
        ], result.Output.Split('\n').Where(line => line.StartsWith("warning: --")));
    }

    [Fact]
    public void LauncherSettingsAndPathsFollowTheOptions()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string adapter = Stage1Adapter(ws), recipe = ws.Output("recipe");

        var result = CliRunner.Run(Recipe(ws, "2", recipe, "--adapter", adapter, "--dataset", "new_text,old_text",
                                          "--num-gpus", "8", "--master-port", "29500"));

        Assert.True(result.ExitCode == 0, result.Error);
        string script = File.ReadAllText(Path.Combine(recipe, "stage2.sh"));
        Assert.Contains("NUM_GPUS=\"${NUM_GPUS:-8}\"", script);
        Assert.Contains("MASTER_PORT=\"${MASTER_PORT:-29500}\"", script);
        Assert.Contains($"MODEL_PATH=\"${{MODEL_PATH:-{Path.GetFullPath(ws.ModelDir)}}}\"", script);
        Assert.Contains($"STAGE1_PATH=\"${{STAGE1_PATH:-{Path.GetFullPath(adapter)}}}\"", script);
        Assert.Equal("\"$STAGE1_PATH\"", FlagsOf(Path.Combine(recipe, "stage2.sh"))["--adapter_name_or_path"]);
        Assert.Contains("(the adapter has 3 experts, top-2)", File.ReadAllText(Path.Combine(recipe, "README.md")));
    }

    /// <summary>
    /// The script as a user runs it: without the data it stops naming the missing file; after the README's copy
    /// commands it launches DeepSpeed (a stand-in that records its arguments) from LLAMA_FACTORY_DIR with the flags.
    /// </summary>
    [SkippableFact]
    public void ScriptChecksTheDataThenLaunchesDeepSpeedWithTheFlags()
    {
        Skip.If(!File.Exists("/bin/bash"), "bash is not installed");
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string recipe = ws.Output("recipe"), bin = ws.Output("bin"), factory = ws.Output("LLaMA-Factory");
        string recorded = ws.Output("deepspeed-args.txt");
        var written = CliRunner.Run(Recipe(ws, "1", recipe, "--dataset", "new_text,old_text", "--lr", "0.001"));
        Assert.Equal(0, written.ExitCode);
        Directory.CreateDirectory(bin);
        Directory.CreateDirectory(factory);
        string fake = Path.Combine(bin, "deepspeed");
        File.WriteAllText(fake, $"#!/bin/bash\npwd > '{recorded}'\nprintf '%s\\n' \"$@\" >> '{recorded}'\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        (int Code, string Error) Bash(string arguments)
        {
            var start = new ProcessStartInfo("/bin/bash")
            {
                RedirectStandardError = true, RedirectStandardOutput = true,
            };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(arguments);
            start.Environment["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
            start.Environment["LLAMA_FACTORY_DIR"] = factory;
            using var process = Process.Start(start)!;
            string error = process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, error);
        }

        string script = Path.Combine(recipe, "stage1.sh");
        var missing = Bash($"bash '{script}'");
        Assert.Equal(1, missing.Code);
        Assert.Equal($"error: {recipe}/data/new.jsonl: dataset file not found (copy it there, see README.md)",
                     missing.Error.TrimEnd());

        string readme = File.ReadAllText(Path.Combine(recipe, "README.md"));
        string copy = Regex.Match(readme, "\n   ```bash\n(.*?)   ```\n", RegexOptions.Singleline).Groups[1].Value;
        Assert.Contains("cp ", copy);
        Assert.Equal(0, Bash(copy).Code);
        var launched = Bash($"bash '{script}'");
        Assert.True(launched.Code == 0, launched.Error);

        var lines = File.ReadAllLines(recorded);
        Assert.Equal(factory, lines[0]);
        Assert.Equal(["--num_gpus", "1", "--master_port=9902", "src/train_bash.py", "--deepspeed",
                      Path.Combine(recipe, "ds_config.json")], lines[1..7]);
        string Value(string flag) => lines[Array.IndexOf(lines, flag) + 1];
        Assert.Equal(Path.GetFullPath(ws.ModelDir), Value("--model_name_or_path"));
        Assert.Equal(Path.Combine(recipe, "data"), Value("--dataset_dir"));
        Assert.Equal(Path.Combine(recipe, "stage1"), Value("--output_dir"));
        Assert.Equal("0.001", Value("--learning_rate"));
        Assert.Equal("new_text,old_text", Value("--dataset"));
    }

    [Fact]
    public void BadInputIsOneLineAndWritesNothing()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string output = ws.Output("recipe");
        string lora = ws.Output("lora");
        Assert.Equal(0, CliRunner.Run("train", "--stage", "lora", "--model", ws.ModelDir, "--dataset", "new_text",
            "--dataset-info", ws.DatasetInfo, "--output", lora, "--cutoff-len", "32", "--max-steps", "1",
            "--device", "cpu").ExitCode);

        string adapter = Stage1Adapter(ws);
        var cases = new (string[] Args, string Error)[]
        {
            (Recipe(ws, "full", output, "--dataset", "new_text"),
             "error: --stage full: the recipe writes the authors' stage-1 and stage-2 scripts; full fine-tuning and " +
             "LoRA have none"),
            (Recipe(ws, "2", output, "--dataset", "new_text,old_text"),
             "error: stage 2 needs --adapter: the stage-1 output folder whose routers it trains"),
            (Recipe(ws, "2", output, "--adapter", adapter, "--dataset", "new_text"),
             $"error: {ws.DatasetInfo}: none of new_text is \"old\": the released code's LPR loss is NaN on a " +
             "micro-batch without old-language tokens; add an old-language replay dataset"),
            (Recipe(ws, "2", output, "--adapter", lora, "--dataset", "new_text,old_text"),
             $"error: {Path.Combine(lora, PeftAdapterFiles.ConfigFileName)}: peft_type is 'LORA', expected 'MOE'"),
            (Recipe(ws, "1", output, "--dataset", "new_text,klingon"),
             $"error: {ws.DatasetInfo}: unknown dataset 'klingon' (known: new_text, old_text)"),
            (Recipe(ws, "1", output, "--dataset", "new_text", "--num-gpus", "0"),
             "error: --num-gpus must be at least 1 (got 0)"),
            (Recipe(ws, "2", output, "--adapter", adapter, "--dataset", "new_text,old_text",
                    "--replay-max-samples", "3"),
             "error: --replay-max-samples: LLaMA-Factory takes one max_samples for every dataset; give the " +
             "old-language replay its own document count in its data file instead"),
        };
        foreach (var (args, error) in cases)
        {
            var result = CliRunner.Run(args);
            Assert.Equal(1, result.ExitCode);
            Assert.Equal(error, result.Error.TrimEnd());
        }
        Assert.False(Directory.Exists(output));
    }
}
