using System.CommandLine;
using System.Diagnostics;
using MoeLpr.Checkpoints;
using MoeLpr.Data;

namespace MoeLpr.Cli.Commands;

/// <summary><c>moelpr tokenizer train|count</c>: train a byte-level BPE tokenizer (HF tokenizer.json) on registered
/// datasets, or count a model directory's tokens per dataset.</summary>
public static class TokenizerCommand
{
    public static Command Create()
    {
        var command = new Command("tokenizer", "Tokenizer tools");
        command.Subcommands.Add(CreateTrain());
        command.Subcommands.Add(CreateCount());
        return command;
    }

    static Command CreateTrain()
    {
        var info = SharedOptions.DatasetInfo();
        var datasets = SharedOptions.Datasets();
        var maxSamples = SharedOptions.MaxSamples();
        var vocabSize = new Option<int>("--vocab-size")
        {
            Description = "256 bytes + merges + <|endoftext|>", DefaultValueFactory = _ => 8000,
        };
        var output = SharedOptions.Output("directory for tokenizer.json and tokenizer_config.json");
        var train = new Command("train", "Train a byte-level BPE tokenizer on the documents of the given datasets");
        foreach (var option in new Option[] { info, datasets, vocabSize, maxSamples, output })
            train.Options.Add(option);
        train.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var console = parse.InvocationConfiguration.Output;
            AtomicDirectory.RequireNewOrEmpty(parse.GetValue(output)!);   // e.g. not a model's folder
            var registry = DatasetRegistry.Open(parse.GetValue(info)!);
            var loaded = registry.LoadMany(DatasetRegistry.ParseNames(parse.GetValue(datasets)!),
                parse.GetValue(maxSamples));
            var clock = Stopwatch.StartNew();
            var bpe = BpeTrainer.Train(loaded.SelectMany(d => d.Documents), parse.GetValue(vocabSize));
            bpe.Save(parse.GetValue(output)!);
            // Merging stops when no pair of tokens occurs twice: say so rather than hand back a smaller vocabulary.
            var asked = parse.GetValue(vocabSize);
            var fewer = bpe.VocabSize < asked
                ? $"; not the {asked} tokens asked for: no pair of tokens in the data is left that occurs twice"
                : "";
            console.WriteLine($"trained {bpe.VocabSize} tokens ({bpe.Merges.Count} merges{fewer}) in " +
                              $"{clock.Elapsed.TotalSeconds:F1} s → {parse.GetValue(output)}");
        }));
        return train;
    }

    static Command CreateCount()
    {
        var info = SharedOptions.DatasetInfo();
        var datasets = SharedOptions.Datasets();
        var maxSamples = SharedOptions.MaxSamples();
        var tokenizer = new Option<string>("--tokenizer")
        {
            Description = "model or tokenizer directory", Required = true,
        };
        var count = new Command("count", "Documents, bytes and tokens (incl. one EOS per document) per dataset");
        foreach (var option in new Option[] { info, datasets, maxSamples, tokenizer }) count.Options.Add(option);
        count.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var console = parse.InvocationConfiguration.Output;
            var loaded = TokenizerLoader.Load(parse.GetValue(tokenizer)!);
            var registry = DatasetRegistry.Open(parse.GetValue(info)!);
            foreach (string name in DatasetRegistry.ParseNames(parse.GetValue(datasets)!))
            {
                var dataset = registry.Load(name, parse.GetValue(maxSamples));
                long bytes = dataset.Documents.Sum(d => (long)System.Text.Encoding.UTF8.GetByteCount(d));
                long tokens = dataset.Documents.Sum(d => (long)loaded.Encode(d).Count + 1);
                console.WriteLine($"{name,-14} {dataset.Documents.Count,6} docs {bytes / 1e6,8:F2} MB {tokens,10} " +
                                  $"tokens {bytes / (double)tokens,6:F2} bytes/token");
            }
        }));
        return count;
    }
}
