using System.CommandLine;
using MoeLpr.Data;
using MoeLpr.Devices;
using MoeLpr.Model;
using MoeLpr.Runs;
using MoeLpr.Training;
using MoeLpr.Training.Losses;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// The options several commands share, each declared once: defaults come from the library's option records, and the
/// reference scripts' snake_case spellings (<c>--model_name_or_path</c>, <c>--cutoff_len</c>, ...) are attached here as
/// aliases. A group adds its options to a command and applies the parsed values to a library record.
/// </summary>
internal static class SharedOptions
{
    public static Option<string> DatasetInfo() =>
        new("--dataset-info", "--dataset_info")
        {
            Description = "The dataset registry", DefaultValueFactory = _ => DatasetRegistry.DefaultInfoPath,
        };

    public static Option<string> Datasets() =>
        new("--dataset", "--datasets")
        {
            Description = "Comma-separated dataset names from dataset_info.json", Required = true,
        };

    public static Option<int?> MaxSamples() =>
        new("--max-samples", "--max_samples") { Description = "First N documents of each dataset (default: all)" };

    /// <summary>A required output folder; <c>--output_dir</c> as the reference scripts spell it.</summary>
    public static Option<string> Output(string description) =>
        new("--output", "--output_dir", "--out") { Description = description, Required = true };

    /// <summary>A required output file (no <c>--output_dir</c>: it names no folder).</summary>
    public static Option<string> OutputFile(string description) =>
        new("--output", "--out") { Description = description, Required = true };

    public static void AddTo(Command command, params Option[] options)
    {
        foreach (var option in options) command.Options.Add(option);
    }

    /// <summary>
    /// An enum option shown as users type it (<c>&lt;auto|eager|sdpa&gt;</c>, <c>[default: auto]</c>), where the parser
    /// would show the members' names; null when not given, so the caller's default applies.
    /// </summary>
    public static Option<T?> Choice<T>(string name, string description, T defaultValue) where T : struct, Enum
    {
        var choices = Enum.GetNames<T>().Select(member => member.ToLowerInvariant()).ToArray();
        return new(name)
        {
            Description = $"{description} [default: {defaultValue.ToString().ToLowerInvariant()}]",
            HelpName = string.Join("|", choices),
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                if (choices.Contains(text.ToLowerInvariant())) return Enum.Parse<T>(text, ignoreCase: true);
                result.AddError($"{name}: '{text}' is not {string.Join(", ", choices[..^1])} or {choices[^1]}");
                return null;
            },
        };
    }
}

/// <summary>
/// <c>--device</c>, <c>--threads</c>, <c>--attention</c> and, for commands whose models can have MoE blocks
/// (<paramref name="runsMoe"/>), <c>--moe-dispatch</c>.
/// </summary>
internal sealed class DeviceOptionGroup(DeviceOptions defaults, bool runsMoe = true)
{
    readonly Option<string> device = new("--device")
    {
        Description = "auto, cpu, cuda, cuda:N or mps", DefaultValueFactory = _ => defaults.Device,
    };
    readonly Option<int?> threads = new("--threads")
    {
        Description = "libtorch CPU threads (default: libtorch's, one per core; 1 is fastest on a busy machine)",
    };

    readonly Option<AttentionImplementation?> attention = SharedOptions.Choice("--attention",
        "How attention is computed: auto (sdpa on CUDA, eager elsewhere), eager (HF's: T×T scores, softmax in " +
        "float32) or sdpa (libtorch's fused scaled_dot_product_attention)", defaults.Attention);

    readonly Option<ExpertDispatch?> moeDispatch = SharedOptions.Choice("--moe-dispatch",
        "How MoE blocks run their experts: auto (grouped on CUDA in bfloat16, the loop elsewhere), loop or grouped",
        defaults.MoeDispatch);

    public void AddTo(Command command)
    {
        SharedOptions.AddTo(command, device, threads, attention);
        if (runsMoe) SharedOptions.AddTo(command, moeDispatch);
    }

    public T Apply<T>(T options, ParseResult parse) where T : DeviceOptions =>
        (T)((DeviceOptions)options with
        {
            Device = parse.GetValue(device)!, Threads = parse.GetValue(threads),
            Attention = parse.GetValue(attention) ?? defaults.Attention,
            MoeDispatch = (runsMoe ? parse.GetValue(moeDispatch) : null) ?? defaults.MoeDispatch,
        });
}

/// <summary>The registered datasets a run reads and how they are packed.</summary>
internal sealed class DataOptionGroup(DataOptions defaults)
{
    readonly Option<string> datasets = SharedOptions.Datasets();
    readonly Option<string> datasetInfo = SharedOptions.DatasetInfo();
    readonly Option<int?> maxSamples = SharedOptions.MaxSamples();
    readonly Option<int> cutoffLen = new("--cutoff-len", "--cutoff_len")
    {
        Description = "Tokens per packed block", DefaultValueFactory = _ => defaults.CutoffLen,
    };
    readonly Option<bool> allowSha1 = new("--allow-sha1-mismatch")
    {
        Description = "Use dataset files whose SHA-1 differs from dataset_info.json",
    };
    readonly Option<bool> keepEos = new("--keep-eos-targets")
    {
        Description = "Score EOS targets in the LM loss (the reference masks them, pad = eos)",
    };
    readonly Option<string?> cacheDir = new("--cache-dir") { Description = "Cache packed corpora here between runs" };

    public void AddTo(Command command) =>
        SharedOptions.AddTo(command, datasets, datasetInfo, maxSamples, cutoffLen, allowSha1, keepEos, cacheDir);

    public Option CacheDir => cacheDir;

    /// <summary>The dataset names (a required member of every data record).</summary>
    public IReadOnlyList<string> Datasets(ParseResult parse) => DatasetRegistry.ParseNames(parse.GetValue(datasets)!);

    public T Apply<T>(T options, ParseResult parse) where T : DataOptions =>
        (T)((DataOptions)options with
        {
            Datasets = Datasets(parse), DatasetInfo = parse.GetValue(datasetInfo)!,
            MaxSamples = parse.GetValue(maxSamples), CutoffLen = parse.GetValue(cutoffLen),
            AllowSha1Mismatch = parse.GetValue(allowSha1), MaskEosInLabels = !parse.GetValue(keepEos),
            CacheDir = parse.GetValue(cacheDir),
        });
}

/// <summary>The base model, its adapter, its tokenizer and the weight dtype.</summary>
internal sealed class ModelOptionGroup
{
    readonly Option<string> model = new("--model", "--model_name_or_path")
    {
        Description = "HF model folder with its tokenizer (dense; eval, routes and tasks also take a Mixtral export)",
        Required = true,
    };
    readonly Option<string?> adapter;
    readonly Option<string?> tokenizer = new("--tokenizer")
    {
        Description = "Tokenizer folder (default: the model folder)",
    };
    readonly Option<string> dtype;

    /// <param name="dtypeDescription">What <c>--dtype</c> takes here (training refuses float16).</param>
    public ModelOptionGroup(string defaultDtype, string adapterDescription, bool adapterRequired = false,
        string dtypeDescription = "Weight dtype: float32, bfloat16, float16 or float64")
    {
        adapter = new("--adapter", "--adapter_name_or_path")
        {
            Description = adapterDescription, Required = adapterRequired,
        };
        dtype = new("--dtype")
        {
            Description = dtypeDescription, DefaultValueFactory = _ => defaultDtype,
        };
    }

    public void AddTo(Command command) => SharedOptions.AddTo(command, model, adapter, tokenizer, dtype);

    public string ModelDir(ParseResult parse) => parse.GetValue(model)!;

    public string? AdapterDir(ParseResult parse) => parse.GetValue(adapter);

    public string? TokenizerDir(ParseResult parse) => parse.GetValue(tokenizer);

    public string Dtype(ParseResult parse) => parse.GetValue(dtype)!;

    public T Apply<T>(T options, ParseResult parse) where T : ModelDataOptions =>
        (T)((ModelDataOptions)options with
        {
            ModelDir = ModelDir(parse), AdapterDir = AdapterDir(parse), TokenizerDir = TokenizerDir(parse),
                Dtype = Dtype(parse),
        });
}

/// <summary>
/// The optimiser: learning rate and schedule, batch, accumulation, length, clipping, checkpoints, logging, seed.
/// </summary>
internal sealed class OptimizationOptionGroup(TrainerOptions defaults)
{
    readonly Option<double> lr = new("--lr", "--learning-rate", "--learning_rate")
    {
        Description = "Peak learning rate (cosine decay to 0)", DefaultValueFactory = _ => defaults.LearningRate,
    };
    readonly Option<int> batch = new("--batch-size", "--per_device_train_batch_size")
    {
        Description = "Blocks per micro-batch", DefaultValueFactory = _ => defaults.BatchSize,
    };
    readonly Option<int> accumulation = new("--grad-accum", "--gradient_accumulation_steps")
    {
        Description = "Micro-batches per optimizer step", DefaultValueFactory = _ => defaults.GradientAccumulationSteps,
    };
    readonly Option<double> epochs = new("--epochs", "--num_train_epochs")
    {
        Description = "Passes over the data, may be fractional (ignored with --max-steps)",
        DefaultValueFactory = _ => defaults.Epochs,
    };
    readonly Option<int?> maxSteps = new("--max-steps", "--max_steps")
    {
        Description = "Optimizer steps to run instead of epochs", DefaultValueFactory = _ => defaults.MaxSteps,
    };
    readonly Option<int> warmup = new("--warmup-steps", "--warmup_steps")
    {
        Description = "Linear warmup steps", DefaultValueFactory = _ => defaults.WarmupSteps,
    };
    readonly Option<double> maxGradNorm = new("--max-grad-norm", "--max_grad_norm")
    {
        Description = "Gradient clipping norm (0 = off)", DefaultValueFactory = _ => defaults.MaxGradNorm,
    };
    readonly Option<int> saveSteps = new("--save-steps", "--save_steps")
    {
        Description = "Checkpoint every N steps (0 = final output only)", DefaultValueFactory = _ => defaults.SaveSteps,
    };
    readonly Option<int> loggingSteps = new("--logging-steps", "--logging_steps")
    {
        Description = "Metrics line every N steps", DefaultValueFactory = _ => defaults.LoggingSteps,
    };
    readonly Option<long> seed = new("--seed")
    {
        Description = "Seed for initialisation, libtorch and data order", DefaultValueFactory = _ => defaults.Seed,
    };
    readonly Option<bool> cudaGraphs = new("--cuda-graphs")
    {
        Description = "Replay each micro-batch's forward and backward pass from a CUDA graph: for small models, " +
                      "whose steps the host issues slower than the GPU runs them (CUDA, grouped experts)",
        DefaultValueFactory = _ => defaults.CudaGraphs,
    };

    /// <summary>--cuda-graphs: the kit's own loop only, not the recipe's LLaMA-Factory scripts.</summary>
    public Option<bool> CudaGraphs => cudaGraphs;

    public void AddTo(Command command) =>
        SharedOptions.AddTo(command, lr, batch, accumulation, epochs, maxSteps, warmup, maxGradNorm, saveSteps,
            loggingSteps, seed, cudaGraphs);

    public TrainerOptions Read(ParseResult parse) => defaults with
    {
        LearningRate = parse.GetValue(lr), BatchSize = parse.GetValue(batch),
        GradientAccumulationSteps = parse.GetValue(accumulation), Epochs = parse.GetValue(epochs),
        MaxSteps = parse.GetValue(maxSteps), WarmupSteps = parse.GetValue(warmup),
        MaxGradNorm = parse.GetValue(maxGradNorm), SaveSteps = parse.GetValue(saveSteps),
        LoggingSteps = parse.GetValue(loggingSteps), Seed = parse.GetValue(seed),
        CudaGraphs = parse.GetValue(cudaGraphs),
    };
}

/// <summary>The MoE shape when upcycling: experts N (including the original MLP) and top-K.</summary>
internal sealed class MoeOptionGroup(int defaultExperts, int defaultTopK)
{
    readonly Option<int> experts = new("--num-experts", "--moe_num_experts")
    {
        Description = "Total experts N when upcycling, including the original MLP",
        DefaultValueFactory = _ => defaultExperts,
    };
    readonly Option<int> topK = new("--topk", "--top-k")
    {
        Description = "Experts per token K when upcycling", DefaultValueFactory = _ => defaultTopK,
    };

    public MoeOptionGroup() : this(new MoeConfig().NumExperts, new MoeConfig().TopK) { }

    public void AddTo(Command command) => SharedOptions.AddTo(command, experts, topK);

    public IEnumerable<Option> Options => [experts, topK];

    public int NumExperts(ParseResult parse) => parse.GetValue(experts);

    public int TopK(ParseResult parse) => parse.GetValue(topK);
}

/// <summary>The MoE-LPR loss weights (stage 1: balance, stage 2: LPR) and the LPR loss form.</summary>
internal sealed class MoeLossOptionGroup(TrainingOptions defaults)
{
    readonly Option<double> auxCoef = new("--aux-loss-coef", "--aux_loss_coef")
    {
        Description = "Stage-1 load-balancing loss weight", DefaultValueFactory = _ => defaults.AuxLossCoef,
    };
    readonly Option<double> lprCoef = new("--lpr-loss-coef", "--lpr_loss_coef")
    {
        Description = "Stage-2 LPR loss weight", DefaultValueFactory = _ => defaults.LprLossCoef,
    };
    readonly Option<string> lprForm = new("--lpr-loss-form", "--lpr_loss_form")
    {
        Description = "nll (-log p0, the paper) or reference (the released code's CE on probabilities)",
        DefaultValueFactory = _ => "nll",
    };

    public void AddTo(Command command) => SharedOptions.AddTo(command, auxCoef, lprCoef, lprForm);

    public Option Balance => auxCoef;

    public IEnumerable<Option> Lpr => [lprCoef, lprForm];

    public TrainingOptions Apply(TrainingOptions options, ParseResult parse) => options with
    {
        AuxLossCoef = parse.GetValue(auxCoef), LprLossCoef = parse.GetValue(lprCoef),
        LprLossForm = ParseLprForm(parse.GetValue(lprForm)!),
    };

    static LprLossForm ParseLprForm(string value) => value.Trim().ToLowerInvariant() switch
    {
        "nll" => LprLossForm.Nll,
        "reference" => LprLossForm.Reference,
        _ => throw new ArgumentException($"--lpr-loss-form: '{value}' is not nll or reference"),
    };
}

/// <summary>The LoRA stage's adapter: rank, α, dropout, target modules (PEFT names; LLaMA-Factory's flags).</summary>
internal sealed class LoraOptionGroup(LoraConfig defaults)
{
    readonly Option<int> rank = new("--lora-rank", "--lora_rank")
    {
        Description = "LoRA rank r", DefaultValueFactory = _ => defaults.Rank,
    };
    readonly Option<int> alpha = new("--lora-alpha", "--lora_alpha")
    {
        Description = "LoRA alpha (scaling alpha / r)", DefaultValueFactory = _ => defaults.Alpha,
    };
    readonly Option<double> dropout = new("--lora-dropout", "--lora_dropout")
    {
        Description = "Dropout on the LoRA branch's input while training", DefaultValueFactory = _ => defaults.Dropout,
    };
    readonly Option<string> target = new("--lora-target", "--lora_target")
    {
        Description = $"Comma-separated modules to wrap, of {string.Join(",", LoraConfig.AllLinearModules)} (or all)",
        DefaultValueFactory = _ => string.Join(",", defaults.TargetModules),
    };

    public void AddTo(Command command) => SharedOptions.AddTo(command, rank, alpha, dropout, target);

    public IEnumerable<Option> Options => [rank, alpha, dropout, target];

    public LoraConfig Read(ParseResult parse)
    {
        var modules = parse.GetValue(target)!
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (modules.Length == 0) throw new ArgumentException("--lora-target: no module given");
        return defaults with
        {
            Rank = parse.GetValue(rank), Alpha = parse.GetValue(alpha), Dropout = parse.GetValue(dropout),
            TargetModules = modules is ["all"] ? LoraConfig.AllLinearModules : modules,
        };
    }
}

/// <summary>
/// What <c>train</c> and <c>recipe</c> share: the stage, the output folder, the model and its adapter, the data, the
/// MoE shape and loss weights, the LoRA adapter and the optimiser, read into one <see cref="TrainingOptions"/>.
/// </summary>
internal sealed class TrainingOptionGroup
{
    static readonly TrainingOptions Defaults = new() { ModelDir = "", Datasets = [], OutputDir = "" };

    readonly Option<string> stage;
    readonly Option<string> output;
    readonly ModelOptionGroup model = new(Defaults.Dtype,
        "MoE adapter to continue (stage 2: the stage-1 output; stage 1: optional, else the model is upcycled)",
        dtypeDescription: "Weight dtype: float32 or bfloat16 (float16 would need loss scaling)");
    readonly DataOptionGroup data = new(Defaults);
    readonly MoeOptionGroup moe = new(Defaults.NumExperts, Defaults.TopK);
    readonly MoeLossOptionGroup losses = new(Defaults);
    readonly LoraOptionGroup lora = new(Defaults.Lora);
    readonly OptimizationOptionGroup optimization = new(Defaults.Optimization);
    readonly Option<int?> replaySamples = new("--replay-max-samples", "--replay_max_samples")
    {
        Description = "First N documents of each old-language dataset (stage 2's replay; default: --max-samples)",
    };

    public TrainingOptionGroup(string stageDescription, string outputDescription)
    {
        stage = new("--stage") { Description = stageDescription, Required = true };
        output = SharedOptions.Output(outputDescription);
    }

    public void AddTo(Command command)
    {
        SharedOptions.AddTo(command, stage, output);
        model.AddTo(command);
        data.AddTo(command);
        SharedOptions.AddTo(command, replaySamples);
        moe.AddTo(command);
        losses.AddTo(command);
        lora.AddTo(command);
        optimization.AddTo(command);
    }

    public TrainingOptions Read(ParseResult parse)
    {
        var options = Defaults with
        {
            Stage = ParseStage(parse.GetValue(stage)!), OutputDir = parse.GetValue(output)!,
            NumExperts = moe.NumExperts(parse), TopK = moe.TopK(parse), Lora = lora.Read(parse),
            ReplayMaxSamples = parse.GetValue(replaySamples), Optimization = optimization.Read(parse),
        };
        return losses.Apply(data.Apply(model.Apply(options, parse), parse), parse);
    }

    /// <summary>
    /// One warning per option given on the command line that the run will not use, so that
    /// <c>--stage 2 --num-experts 6</c> does not pass for a six-expert run. <paramref name="forRecipe"/>: the recipe's
    /// scripts take no LoRA options (it writes stages 1 and 2 only) and pack their own data (no cache).
    /// </summary>
    public IEnumerable<string> UnusedOptionWarnings(ParseResult parse, TrainingOptions options, bool forRecipe)
    {
        var stageName = $"--stage {parse.GetValue(stage)!.Trim()}";
        var unused = new List<(Option Option, string Why)>();
        if (options.Stage != TrainingStage.Stage1)
            unused.AddRange(moe.Options.Select(o => (o, stageName)));
        else if (options.AdapterDir is not null)
            unused.AddRange(moe.Options.Select(
                o => (o, "a run that continues --adapter (it keeps the adapter's shape)")));
        if (options.Stage != TrainingStage.Stage1) unused.Add((losses.Balance, stageName));
        if (options.Stage != TrainingStage.Stage2)
            unused.AddRange(losses.Lpr.Append(replaySamples).Select(o => (o, stageName)));
        if (forRecipe || options.Stage != TrainingStage.Lora)
            unused.AddRange(lora.Options.Select(o => (o, forRecipe ? "recipe" : stageName)));
        if (forRecipe) unused.Add((data.CacheDir, "recipe (LLaMA-Factory packs the data itself)"));
        if (forRecipe) unused.Add((optimization.CudaGraphs, "recipe (LLaMA-Factory runs its own training loop)"));
        return unused.Where(u => parse.GetResult(u.Option) is { Implicit: false })
            .Select(u => $"warning: {u.Option.Name} is not used by {u.Why}");
    }

    static TrainingStage ParseStage(string value) => value.Trim().ToLowerInvariant() switch
    {
        "1" => TrainingStage.Stage1,
        "2" => TrainingStage.Stage2,
        "full" => TrainingStage.Full,
        "lora" => TrainingStage.Lora,
        _ => throw new ArgumentException($"--stage: '{value}' is not 1, 2, full or lora"),
    };
}
