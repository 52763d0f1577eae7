using System.CommandLine;
using MoeLpr.Data;
using MoeLpr.Training;
using MoeLpr.Training.Losses;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// <c>moelpr train --stage 1|2|full</c>: fills <see cref="TrainingOptions"/> and calls <see cref="TrainingRun"/>.
/// The reference's snake_case spellings are aliases. Ctrl+C stops after the current step and writes a checkpoint.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var stage = new Option<string>("--stage") { Description = "1 (experts + routers, balance loss), 2 (routers, LPR loss) or full (every weight, LM loss)", Required = true };
        var model = new Option<string>("--model", "--model_name_or_path") { Description = "Dense HF base model folder (with its tokenizer)", Required = true };
        var adapter = new Option<string?>("--adapter", "--adapter_name_or_path") { Description = "MoE adapter to continue (stage 2: the stage-1 output; stage 1: optional, else the model is upcycled)" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer folder (default: the model folder)" };
        var dataset = new Option<string>("--dataset") { Description = "Comma-separated dataset names from dataset_info.json", Required = true };
        var datasetInfo = new Option<string>("--dataset-info", "--dataset_info") { Description = "The dataset registry", DefaultValueFactory = _ => "data/dataset_info.json" };
        var output = new Option<string>("--output", "--output_dir") { Description = "Output folder (adapter or model, metrics.jsonl, checkpoints)", Required = true };
        var experts = new Option<int>("--num-experts", "--moe_num_experts") { Description = "Total experts N when upcycling, including the original MLP", DefaultValueFactory = _ => 4 };
        var topK = new Option<int>("--topk", "--top-k") { Description = "Experts per token K when upcycling", DefaultValueFactory = _ => 2 };
        var auxCoef = new Option<double>("--aux-loss-coef", "--aux_loss_coef") { Description = "Stage-1 load-balancing loss weight", DefaultValueFactory = _ => Stage1Policy.ReferenceAuxLossCoef };
        var lprCoef = new Option<double>("--lpr-loss-coef", "--lpr_loss_coef") { Description = "Stage-2 LPR loss weight", DefaultValueFactory = _ => Stage2Policy.ReferenceLprLossCoef };
        var lprForm = new Option<string>("--lpr-loss-form", "--lpr_loss_form") { Description = "nll (-log p0, the paper) or reference (the released code's CE on probabilities)", DefaultValueFactory = _ => "nll" };
        var maxSamples = new Option<int?>("--max-samples", "--max_samples") { Description = "First N documents of each dataset" };
        var replaySamples = new Option<int?>("--replay-max-samples", "--replay_max_samples") { Description = "First N documents of each old-language dataset (stage 2's replay; default: --max-samples)" };
        var cutoff = new Option<int>("--cutoff-len", "--cutoff_len") { Description = "Tokens per packed block", DefaultValueFactory = _ => 512 };
        var lr = new Option<double>("--lr", "--learning-rate", "--learning_rate") { Description = "Peak learning rate (cosine decay to 0)", DefaultValueFactory = _ => 5e-5 };
        var batch = new Option<int>("--batch-size", "--per_device_train_batch_size") { Description = "Blocks per micro-batch", DefaultValueFactory = _ => 4 };
        var accum = new Option<int>("--grad-accum", "--gradient_accumulation_steps") { Description = "Micro-batches per optimizer step", DefaultValueFactory = _ => 1 };
        var epochs = new Option<int>("--epochs", "--num_train_epochs") { Description = "Passes over the data (ignored with --max-steps)", DefaultValueFactory = _ => 1 };
        var maxSteps = new Option<int?>("--max-steps", "--max_steps") { Description = "Optimizer steps to run instead of epochs" };
        var warmup = new Option<int>("--warmup-steps", "--warmup_steps") { Description = "Linear warmup steps", DefaultValueFactory = _ => 0 };
        var maxGradNorm = new Option<double>("--max-grad-norm", "--max_grad_norm") { Description = "Gradient clipping norm (0 = off)", DefaultValueFactory = _ => 1.0 };
        var saveSteps = new Option<int>("--save-steps", "--save_steps") { Description = "Checkpoint every N steps (0 = final output only)", DefaultValueFactory = _ => 0 };
        var loggingSteps = new Option<int>("--logging-steps", "--logging_steps") { Description = "Metrics line every N steps", DefaultValueFactory = _ => 10 };
        var seed = new Option<long>("--seed") { Description = "Seed for upcycling, libtorch and data order", DefaultValueFactory = _ => 42 };
        var dtype = new Option<string>("--dtype") { Description = "Weight dtype: float32 or bfloat16", DefaultValueFactory = _ => "float32" };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda, cuda:N or mps", DefaultValueFactory = _ => "auto" };
        var threads = new Option<int?>("--threads") { Description = "libtorch CPU threads" };
        var resume = new Option<bool>("--resume") { Description = "Continue from the latest checkpoint in --output" };
        var allowSha1 = new Option<bool>("--allow-sha1-mismatch") { Description = "Use dataset files whose SHA-1 differs from dataset_info.json" };
        var keepEos = new Option<bool>("--keep-eos-targets") { Description = "Score EOS targets in the LM loss (the reference masks them, pad = eos)" };
        var cacheDir = new Option<string?>("--cache-dir") { Description = "Cache packed corpora here between runs" };

        var command = new Command("train", "Train MoE-LPR stage 1 or 2 (or a full fine-tune) on registered datasets");
        foreach (var option in new Option[] { stage, model, adapter, tokenizer, dataset, datasetInfo, output, experts, topK, auxCoef, lprCoef, lprForm,
                                              maxSamples, replaySamples, cutoff, lr, batch, accum, epochs, maxSteps, warmup, maxGradNorm, saveSteps, loggingSteps,
                                              seed, dtype, device, threads, resume, allowSha1, keepEos, cacheDir })
            command.Options.Add(option);

        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var options = new TrainingOptions
            {
                Stage = ParseStage(parse.GetValue(stage)!),
                ModelDir = parse.GetValue(model)!,
                AdapterDir = parse.GetValue(adapter),
                TokenizerDir = parse.GetValue(tokenizer),
                Datasets = DatasetRegistry.ParseNames(parse.GetValue(dataset)!),
                DatasetInfo = parse.GetValue(datasetInfo)!,
                OutputDir = parse.GetValue(output)!,
                NumExperts = parse.GetValue(experts),
                TopK = parse.GetValue(topK),
                AuxLossCoef = parse.GetValue(auxCoef),
                LprLossCoef = parse.GetValue(lprCoef),
                LprLossForm = ParseLprForm(parse.GetValue(lprForm)!),
                MaxSamples = parse.GetValue(maxSamples),
                ReplayMaxSamples = parse.GetValue(replaySamples),
                CutoffLen = parse.GetValue(cutoff),
                Optimization = new TrainerOptions
                {
                    LearningRate = parse.GetValue(lr),
                    BatchSize = parse.GetValue(batch),
                    GradientAccumulationSteps = parse.GetValue(accum),
                    Epochs = parse.GetValue(epochs),
                    MaxSteps = parse.GetValue(maxSteps),
                    WarmupSteps = parse.GetValue(warmup),
                    MaxGradNorm = parse.GetValue(maxGradNorm),
                    SaveSteps = parse.GetValue(saveSteps),
                    LoggingSteps = parse.GetValue(loggingSteps),
                    Seed = parse.GetValue(seed),
                },
                Dtype = parse.GetValue(dtype)!,
                Device = parse.GetValue(device)!,
                Threads = parse.GetValue(threads),
                Resume = parse.GetValue(resume),
                AllowSha1Mismatch = parse.GetValue(allowSha1),
                MaskEosInLabels = !parse.GetValue(keepEos),
                CacheDir = parse.GetValue(cacheDir),
            };
            using var stop = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try { TrainingRun.Run(options, parse.InvocationConfiguration.Output, stop.Token); }
            finally { Console.CancelKeyPress -= onCancel; }
        }));
        return command;
    }

    static TrainingStage ParseStage(string value) => value.Trim().ToLowerInvariant() switch
    {
        "1" => TrainingStage.Stage1,
        "2" => TrainingStage.Stage2,
        "full" => TrainingStage.Full,
        _ => throw new ArgumentException($"--stage: '{value}' is not 1, 2 or full"),
    };

    static LprLossForm ParseLprForm(string value) => value.Trim().ToLowerInvariant() switch
    {
        "nll" => LprLossForm.Nll,
        "reference" => LprLossForm.Reference,
        _ => throw new ArgumentException($"--lpr-loss-form: '{value}' is not nll or reference"),
    };
}
