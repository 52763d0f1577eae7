using System.CommandLine;
using System.Diagnostics;
using MoeLpr.Data;

namespace MoeLpr.Cli.Commands;

/// <summary><c>moelpr tokenizer train</c>: a byte-level BPE tokenizer (HF tokenizer.json) from registered datasets.</summary>
public static class TokenizerCommand
{
    public static Command Create()
    {
        var info = new Option<string>("--dataset-info") { Description = "dataset_info.json", DefaultValueFactory = _ => "data/dataset_info.json" };
        var datasets = new Option<string>("--dataset", "--datasets") { Description = "comma-separated dataset names", Required = true };
        var vocabSize = new Option<int>("--vocab-size") { Description = "256 bytes + merges + <|endoftext|>", DefaultValueFactory = _ => 8000 };
        var maxSamples = new Option<int?>("--max-samples", "--max_samples") { Description = "first N documents per dataset" };
        var output = new Option<string>("--out") { Description = "directory for tokenizer.json and tokenizer_config.json", Required = true };
        var train = new Command("train", "Train a byte-level BPE tokenizer on the documents of the given datasets");
        foreach (var option in new Option[] { info, datasets, vocabSize, maxSamples, output }) train.Options.Add(option);
        train.SetAction(parse =>
        {
            try
            {
                var registry = DatasetRegistry.Open(parse.GetValue(info)!);
                var loaded = registry.LoadMany(DatasetRegistry.ParseNames(parse.GetValue(datasets)!), parse.GetValue(maxSamples));
                var clock = Stopwatch.StartNew();
                var bpe = BpeTrainer.Train(loaded.SelectMany(d => d.Documents), parse.GetValue(vocabSize));
                bpe.Save(parse.GetValue(output)!);
                Console.WriteLine($"trained {bpe.VocabSize} tokens ({bpe.Merges.Count} merges) in {clock.Elapsed.TotalSeconds:F1} s → {parse.GetValue(output)}");
                foreach (var dataset in loaded)
                    Console.WriteLine($"{dataset.Name,-14} {dataset.Documents.Count,5} docs {dataset.Documents.Sum(d => bpe.Encode(d).Length),9} tokens");
            }
            catch (InvalidDataException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
            return 0;
        });
        var command = new Command("tokenizer", "Tokenizer tools");
        command.Subcommands.Add(train);
        return command;
    }
}
