using System.CommandLine;
using MoeLpr.Data;
using MoeLpr.Training.Pretraining;

namespace MoeLpr.Cli.Commands;

/// <summary><c>moelpr pretrain</c>: trains a small dense LLaMA from random weights (the demo's base model).</summary>
public static class PretrainCommand
{
    public static Command Create()
    {
        var defaults = new PretrainingOptions { TokenizerDir = "", Datasets = [], OutputDir = "" };
        var tokenizer = new Option<string>("--tokenizer") { Description = "Folder with tokenizer.json (from 'moelpr tokenizer train')", Required = true };
        var dataset = new Option<string>("--dataset") { Description = "Comma-separated dataset names from dataset_info.json", Required = true };
        var datasetInfo = new Option<string>("--dataset-info", "--dataset_info") { Description = "The dataset registry", DefaultValueFactory = _ => defaults.DatasetInfo };
        var output = new Option<string>("--output", "--output_dir") { Description = "Output HF model folder", Required = true };
        var hidden = new Option<int>("--hidden-size") { DefaultValueFactory = _ => defaults.HiddenSize };
        var layers = new Option<int>("--layers") { DefaultValueFactory = _ => defaults.NumLayers };
        var heads = new Option<int>("--heads") { DefaultValueFactory = _ => defaults.NumAttentionHeads };
        var kvHeads = new Option<int>("--kv-heads") { DefaultValueFactory = _ => defaults.NumKeyValueHeads };
        var intermediate = new Option<int>("--intermediate-size") { DefaultValueFactory = _ => defaults.IntermediateSize };
        var untied = new Option<bool>("--untied") { Description = "Separate lm_head instead of tied embeddings" };
        var cutoff = new Option<int>("--cutoff-len", "--cutoff_len") { Description = "Tokens per packed block", DefaultValueFactory = _ => defaults.CutoffLen };
        var lr = new Option<double>("--lr", "--learning-rate") { Description = "Peak learning rate (cosine decay to 0)", DefaultValueFactory = _ => defaults.Optimization.LearningRate };
        var batch = new Option<int>("--batch-size") { Description = "Blocks per optimizer step", DefaultValueFactory = _ => defaults.Optimization.BatchSize };
        var maxSteps = new Option<int>("--max-steps", "--max_steps") { Description = "Optimizer steps", DefaultValueFactory = _ => defaults.Optimization.MaxSteps!.Value };
        var warmup = new Option<int>("--warmup-steps") { DefaultValueFactory = _ => defaults.Optimization.WarmupSteps };
        var logging = new Option<int>("--logging-steps") { DefaultValueFactory = _ => defaults.Optimization.LoggingSteps };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => defaults.Optimization.Seed };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda, cuda:N or mps", DefaultValueFactory = _ => "auto" };
        var threads = new Option<int?>("--threads") { Description = "libtorch CPU threads" };
        var cacheDir = new Option<string?>("--cache-dir") { Description = "Cache packed corpora here between runs" };

        var command = new Command("pretrain", "Pretrain a small dense LLaMA from random weights (the demo's base model)");
        foreach (var option in new Option[] { tokenizer, dataset, datasetInfo, output, hidden, layers, heads, kvHeads, intermediate, untied,
                                              cutoff, lr, batch, maxSteps, warmup, logging, seed, device, threads, cacheDir })
            command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(parse, () => Pretrainer.Run(new PretrainingOptions
        {
            TokenizerDir = parse.GetValue(tokenizer)!,
            Datasets = DatasetRegistry.ParseNames(parse.GetValue(dataset)!),
            DatasetInfo = parse.GetValue(datasetInfo)!,
            OutputDir = parse.GetValue(output)!,
            HiddenSize = parse.GetValue(hidden),
            NumLayers = parse.GetValue(layers),
            NumAttentionHeads = parse.GetValue(heads),
            NumKeyValueHeads = parse.GetValue(kvHeads),
            IntermediateSize = parse.GetValue(intermediate),
            TieWordEmbeddings = !parse.GetValue(untied),
            CutoffLen = parse.GetValue(cutoff),
            Optimization = defaults.Optimization with
            {
                LearningRate = parse.GetValue(lr),
                BatchSize = parse.GetValue(batch),
                MaxSteps = parse.GetValue(maxSteps),
                WarmupSteps = parse.GetValue(warmup),
                LoggingSteps = parse.GetValue(logging),
                Seed = parse.GetValue(seed),
            },
            Device = parse.GetValue(device)!,
            Threads = parse.GetValue(threads),
            CacheDir = parse.GetValue(cacheDir),
            CommandLine = "moelpr " + string.Join(' ', parse.Tokens.Select(t => t.Value)),
        }, parse.InvocationConfiguration.Output)));
        return command;
    }
}
