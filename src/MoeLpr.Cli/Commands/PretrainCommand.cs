using System.CommandLine;
using MoeLpr.Training.Pretraining;

namespace MoeLpr.Cli.Commands;

/// <summary><c>moelpr pretrain</c>: trains a small dense LLaMA from random weights (the demo's base model).</summary>
public static class PretrainCommand
{
    public static Command Create()
    {
        var defaults = new PretrainingOptions { TokenizerDir = "", Datasets = [], OutputDir = "" };
        var data = new DataOptionGroup(defaults);
        var device = new DeviceOptionGroup(defaults, runsMoe: false);   // a dense model
        var optimization = new OptimizationOptionGroup(defaults.Optimization);
        var tokenizer = new Option<string>("--tokenizer")
        {
            Description = "Folder with tokenizer.json (from 'moelpr tokenizer train')", Required = true,
        };
        var output = SharedOptions.Output("Output HF model folder");
        var hidden = new Option<int>("--hidden-size")
        {
            Description = "Hidden size (hidden_size)", DefaultValueFactory = _ => defaults.HiddenSize,
        };
        var layers = new Option<int>("--layers")
        {
            Description = "Number of decoder layers (num_hidden_layers)", DefaultValueFactory = _ => defaults.NumLayers,
        };
        var heads = new Option<int>("--heads")
        {
            Description = "Attention heads (num_attention_heads)",
            DefaultValueFactory = _ => defaults.NumAttentionHeads,
        };
        var kvHeads = new Option<int>("--kv-heads")
        {
            Description = "Key/value heads, fewer for grouped-query attention (num_key_value_heads)",
            DefaultValueFactory = _ => defaults.NumKeyValueHeads,
        };
        var intermediate = new Option<int>("--intermediate-size")
        {
            Description = "MLP intermediate size (intermediate_size)",
            DefaultValueFactory = _ => defaults.IntermediateSize,
        };
        var untied = new Option<bool>("--untied") { Description = "Separate lm_head instead of tied embeddings" };

        var command = new Command("pretrain",
            "Pretrain a small dense LLaMA from random weights (the demo's base model)");
        SharedOptions.AddTo(command, tokenizer, output);
        data.AddTo(command);
        SharedOptions.AddTo(command, hidden, layers, heads, kvHeads, intermediate, untied);
        optimization.AddTo(command);
        device.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var options = new PretrainingOptions
            {
                TokenizerDir = parse.GetValue(tokenizer)!,
                Datasets = data.Datasets(parse),
                OutputDir = parse.GetValue(output)!,
                HiddenSize = parse.GetValue(hidden),
                NumLayers = parse.GetValue(layers),
                NumAttentionHeads = parse.GetValue(heads),
                NumKeyValueHeads = parse.GetValue(kvHeads),
                IntermediateSize = parse.GetValue(intermediate),
                TieWordEmbeddings = !parse.GetValue(untied),
                Optimization = optimization.Read(parse),
                CommandLine = "moelpr " + string.Join(' ', parse.Tokens.Select(t => t.Value)),
            };
            Pretrainer.Run(device.Apply(data.Apply(options, parse), parse), parse.InvocationConfiguration.Output);
        }));
        return command;
    }
}
