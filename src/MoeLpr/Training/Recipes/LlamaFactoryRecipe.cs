using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using MoeLpr.Checkpoints;
using MoeLpr.Data;
using MoeLpr.Model;

namespace MoeLpr.Training.Recipes;

/// <summary>
/// <c>moelpr recipe</c>: the run <c>moelpr train --stage 1|2</c> would do, written as the authors' own LLaMA-Factory
/// run (github.com/zjwang21/MoE-LPR, <c>LLaMA-Factory/scripts/stage{1,2}.sh</c>) for many GPUs: <c>stage1.sh</c> or
/// <c>stage2.sh</c> (DeepSpeed launcher, every kit setting mapped to the reference flag, see <see cref="Flags"/>),
/// the authors' ZeRO-2 <c>ds_config.json</c>, <c>data/dataset_info.json</c> with the entries of the datasets used, and
/// a README on running it, what differs from the kit, and bringing the adapter back (it has the kit's key layout).
/// Nothing is trained and no weights are read; the base model, the adapter and the data files are checked as
/// <c>train</c> would check them.
/// </summary>
public static class LlamaFactoryRecipe
{
    public const string DsConfigFileName = "ds_config.json";
    public const string DataFolder = "data";
    public const string ReadmeFileName = "README.md";

    /// <summary>The authors' <c>LLaMA-Factory/config/ds_config.json</c>, unchanged (ZeRO-2; no bf16 block).</summary>
    public const string DsConfig = """
        {
          "train_batch_size": "auto",
          "train_micro_batch_size_per_gpu": "auto",
          "gradient_accumulation_steps": "auto",
          "gradient_clipping": "auto",
          "zero_allow_untested_optimizer": true,
          "fp16": {
            "enabled": "auto",
            "loss_scale": 0,
            "initial_scale_power": 16,
            "loss_scale_window": 1000,
            "hysteresis": 2,
            "min_loss_scale": 1
          },
          "zero_optimization": {
            "stage": 2,
            "allgather_partitions": true,
            "allgather_bucket_size": 5e8,
            "overlap_comm": true,
            "reduce_scatter": true,
            "reduce_bucket_size": 5e8,
            "contiguous_gradients": true
          }
        }

        """;

    static readonly TrainingJson DatasetInfoJson = new(new JsonSerializerOptions
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>"stage1.sh" or "stage2.sh".</summary>
    public static string ScriptName(TrainingStage stage) => stage == TrainingStage.Stage2 ? "stage2.sh" : "stage1.sh";

    /// <summary>Checks the run as <c>train</c> would, then writes the recipe folder (all files or none).</summary>
    public static RecipeResult Write(RecipeOptions options)
    {
        var plan = RecipePlan.Check(options);
        string folder = Path.GetFullPath(options.Training.OutputDir);
        var files = new Dictionary<string, string>
        {
            [ScriptName(options.Training.Stage)] = Script(plan),
            [DsConfigFileName] = DsConfig,
            [Path.Combine(DataFolder, "dataset_info.json")] = DatasetInfo(plan.Datasets),
            [ReadmeFileName] = RecipeReadme.Write(plan),
        };
        AtomicDirectory.RequireNewOrEmpty(folder);
        AtomicDirectory.Write(folder, staging =>
        {
            foreach (var (name, text) in files)
            {
                string path = Path.Combine(staging, name);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, text.ReplaceLineEndings("\n"));
            }
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(Path.Combine(staging, ScriptName(options.Training.Stage)),
                    UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead |
                    UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        });
        return new RecipeResult(folder, files.Keys.ToList(), plan.Warnings);
    }

    /// <summary>
    /// The LLaMA-Factory flags of the run, in the order the script passes them, each with the kit setting it
    /// reproduces: as the authors' <c>stage1.sh</c>/<c>stage2.sh</c> pass them, plus the settings those scripts leave
    /// at HF defaults (warmup_steps, max_grad_norm, seed), written out so that they follow the kit's values.
    /// </summary>
    public static IReadOnlyList<RecipeFlag> Flags(RecipeOptions options)
    {
        var run = options.Training;
        var opt = run.Optimization;
        bool stage2 = run.Stage == TrainingStage.Stage2;
        var flags = new List<RecipeFlag>
        {
            new("--deepspeed", "\"$RECIPE_DIR/ds_config.json\"", "DeepSpeed ZeRO-2 (the authors' config, unchanged)"),
            new("--stage", "pt", "post-pretraining: LM loss on packed text"),
            new("--do_train", null, "train"),
            new("--model_name_or_path", "\"$MODEL_PATH\"", $"--model {Path.GetFullPath(run.ModelDir)}"),
        };
        if (run.AdapterDir is not null)
            flags.Add(new("--adapter_name_or_path", $"\"${AdapterVariable(run.Stage)}\"",
                          $"--adapter {Path.GetFullPath(run.AdapterDir)}"));
        flags.Add(new("--finetuning_type", "moe", "MoE-LPR: upcycled MLPs as a PEFT \"MOE\" adapter"));
        if (!stage2 && run.AdapterDir is null)
        {
            flags.Add(new("--moe_num_experts", Int(run.NumExperts), $"--num-experts {run.NumExperts}"));
            flags.Add(new("--topk", Int(run.TopK), $"--topk {run.TopK}"));
        }
        if (stage2)
        {
            flags.Add(new("--lpr_loss_coef", Float(run.LprLossCoef), $"--lpr-loss-coef {Float(run.LprLossCoef)}"));
            flags.Add(new("--train_only_router", null, "stage 2 trains the routers only"));
            flags.Add(new("--generate_lang_mask", null,
                          "stage 2: each token's old/new flag from its dataset's \"language\""));
        }
        else
        {
            flags.Add(new("--aux_loss_coef", Float(run.AuxLossCoef), $"--aux-loss-coef {Float(run.AuxLossCoef)}"));
        }
        string names = string.Join(",", run.Datasets);
        flags.Add(new("--dataset_dir", "\"$DATASET_DIR\"", "the datasets' registry (data/dataset_info.json here)"));
        flags.Add(new("--dataset", names, $"--dataset {names}"));
        if (run.MaxSamples is int samples)
            flags.Add(new("--max_samples", Int(samples), $"--max-samples {samples}"));
        flags.Add(new("--preprocessing_num_workers", "16", "tokenisation processes (the authors' value)"));
        flags.Add(new("--cutoff_len", Int(run.CutoffLen), $"--cutoff-len {run.CutoffLen}"));
        flags.Add(new("--output_dir", "\"$OUTPUT_DIR\"", "the adapter, its checkpoints and the logs"));
        flags.Add(new("--overwrite_output_dir", null, "as the authors' scripts"));
        flags.Add(new("--per_device_train_batch_size", Int(opt.BatchSize), $"--batch-size {opt.BatchSize}"));
        flags.Add(new("--gradient_accumulation_steps", Int(opt.GradientAccumulationSteps),
                      $"--grad-accum {opt.GradientAccumulationSteps}"));
        flags.Add(new("--lr_scheduler_type", "cosine", "the kit's schedule: linear warmup, then cosine to 0"));
        flags.Add(new("--warmup_steps", Int(opt.WarmupSteps), $"--warmup-steps {opt.WarmupSteps}"));
        flags.Add(new("--learning_rate", Float(opt.LearningRate), $"--lr {Float(opt.LearningRate)}"));
        flags.Add(opt.MaxSteps is int steps
            ? new("--max_steps", Int(steps), $"--max-steps {steps}")
            : new("--num_train_epochs", Float(opt.Epochs),
                $"--epochs {opt.Epochs.ToString(CultureInfo.InvariantCulture)}"));
        flags.Add(new("--max_grad_norm", Float(opt.MaxGradNorm), $"--max-grad-norm {Float(opt.MaxGradNorm)}"));
        flags.Add(new("--logging_steps", Int(opt.LoggingSteps), $"--logging-steps {opt.LoggingSteps}"));
        flags.Add(opt.SaveSteps > 0
            ? new("--save_steps", Int(opt.SaveSteps), $"--save-steps {opt.SaveSteps}")
            : new("--save_strategy", "no", "--save-steps 0: the final output only"));
        flags.Add(new("--save_only_model", null, "as the authors' scripts: checkpoints without optimizer state"));
        flags.Add(new("--seed", Int(opt.Seed), $"--seed {opt.Seed}"));
        switch (run.Dtype)
        {
            case "bfloat16": flags.Add(new("--bf16", null, "--dtype bfloat16")); break;
            case "float16": flags.Add(new("--fp16", null, "--dtype float16")); break;
        }
        flags.Add(new("--plot_loss", null, "as the authors' scripts: a loss curve PNG"));
        return flags;
    }

    /// <summary>The script's adapter variable: STAGE1_PATH in stage 2 (as the authors'), else ADAPTER_PATH.</summary>
    public static string AdapterVariable(TrainingStage stage) =>
        stage == TrainingStage.Stage2 ? "STAGE1_PATH" : "ADAPTER_PATH";

    static string Int(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    static string Float(double value) => JsonFloat.Format(value);

    /// <summary>Single-quoted for bash.</summary>
    internal static string Quote(string text) => "'" + text.Replace("'", "'\\''") + "'";

    static string Script(RecipePlan plan)
    {
        var run = plan.Options.Training;
        bool stage2 = run.Stage == TrainingStage.Stage2;
        string stage = stage2 ? "2" : "1", script = ScriptName(run.Stage);
        var text = new StringBuilder();
        text.AppendLine("#!/usr/bin/env bash");
        text.AppendLine($"# MoE-LPR stage {stage} with the authors' LLaMA-Factory (github.com/zjwang21/MoE-LPR,");
        text.AppendLine($"# LLaMA-Factory/scripts/{script}), written by `moelpr recipe --stage {stage}` for the same");
        text.AppendLine("# base, data and hyper-parameters as the kit's run. README.md: setup, what differs, and");
        text.AppendLine("# bringing the adapter back.");
        text.AppendLine($"#   LLAMA_FACTORY_DIR=/path/to/MoE-LPR/LLaMA-Factory bash {script}");
        text.AppendLine("set -euo pipefail");
        text.AppendLine("RECIPE_DIR=\"$(cd \"$(dirname \"${BASH_SOURCE[0]}\")\" && pwd)\"");
        text.AppendLine("LLAMA_FACTORY_DIR=\"${LLAMA_FACTORY_DIR:?set LLAMA_FACTORY_DIR to your " +
                        "MoE-LPR/LLaMA-Factory checkout}\"");
        text.AppendLine($"MODEL_PATH=\"${{MODEL_PATH:-{Path.GetFullPath(run.ModelDir)}}}\"");
        if (run.AdapterDir is not null)
        {
            string variable = AdapterVariable(run.Stage);
            text.AppendLine($"{variable}=\"${{{variable}:-{Path.GetFullPath(run.AdapterDir)}}}\"");
        }
        text.AppendLine("DATASET_DIR=\"${DATASET_DIR:-$RECIPE_DIR/data}\"");
        text.AppendLine($"OUTPUT_DIR=\"${{OUTPUT_DIR:-$RECIPE_DIR/stage{stage}}}\"");
        text.AppendLine($"NUM_GPUS=\"${{NUM_GPUS:-{plan.Options.NumGpus}}}\"");
        text.AppendLine($"MASTER_PORT=\"${{MASTER_PORT:-{plan.Options.MasterPort}}}\"");
        text.AppendLine();
        text.AppendLine("# The dataset files must sit next to dataset_info.json (README.md has the copy commands).");
        var files = plan.Datasets.Select(d => Quote(d.Entry.FileName!));
        text.AppendLine($"for file in {string.Join(" ", files)}; do");
        text.AppendLine("  if [ ! -f \"$DATASET_DIR/$file\" ]; then");
        text.AppendLine("    echo \"error: $DATASET_DIR/$file: dataset file not found (copy it there, see " +
                        "README.md)\" >&2");
        text.AppendLine("    exit 1");
        text.AppendLine("  fi");
        text.AppendLine("done");
        text.AppendLine();
        text.AppendLine("export WANDB_DISABLED=true");
        text.AppendLine("cd \"$LLAMA_FACTORY_DIR\"");
        text.Append("deepspeed --num_gpus \"$NUM_GPUS\" --master_port=\"$MASTER_PORT\" src/train_bash.py");
        foreach (var flag in Flags(plan.Options))
            text.Append(" \\\n    ").Append(flag.Flag).Append(flag.Value is null ? "" : " " + flag.Value);
        text.AppendLine();
        return text.ToString();
    }

    static string DatasetInfo(IReadOnlyList<RecipeDataset> datasets) =>
        JsonSerializer.Serialize(datasets.ToDictionary(d => d.Name, d => d.Entry),
            DatasetInfoJson.DictionaryStringDatasetEntry) + "\n";
}
