using System.CommandLine;
using MoeLpr.Checkpoints;
using MoeLpr.Data;
using MoeLpr.Evaluation;

namespace MoeLpr.Cli.Commands;

/// <summary><c>moelpr routes</c>: routing statistics per dataset × MoE layer × expert, written as CSV.</summary>
public static class RoutesCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Base HF model folder", Required = true };
        var adapter = new Option<string>("--adapter") { Description = "MoE adapter folder", Required = true };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer folder (default: the model folder)" };
        var datasets = new Option<string>("--dataset") { Description = "Comma-separated dataset names from the registry, e.g. en_test,el_test", Required = true };
        var datasetInfo = new Option<string>("--dataset-info", "--dataset_info") { Description = "dataset_info.json", DefaultValueFactory = _ => "data/dataset_info.json" };
        var maxSamples = new Option<int?>("--max-samples", "--max_samples") { Description = "First N documents of each dataset (default: all)" };
        var cutoffLen = new Option<int>("--cutoff-len", "--cutoff_len") { Description = "Tokens per packed block", DefaultValueFactory = _ => 512 };
        var batchSize = new Option<int>("--batch-size") { Description = "Blocks per forward pass", DefaultValueFactory = _ => 8 };
        var output = new Option<string>("--output", "--out") { Description = $"Folder for {RoutingStatistics.ExpertsCsv} and {RoutingStatistics.LayersCsv}", Required = true };

        var command = new Command("routes", "Routing statistics per dataset: expert selection rates, mean router probabilities, expert-0 share, load balance");
        foreach (var option in new Option[] { model, adapter, tokenizer, datasets, datasetInfo, maxSamples, cutoffLen, batchSize, output }) command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            string modelDir = parse.GetValue(model)!;
            using var loaded = HfModelDirectory.Load(modelDir);
            MoeAdapter.Load(loaded, parse.GetValue(adapter)!);
            var tok = TokenizerLoader.Load(parse.GetValue(tokenizer) ?? modelDir);
            var registry = DatasetRegistry.Open(parse.GetValue(datasetInfo)!);
            var data = registry.LoadMany(DatasetRegistry.ParseNames(parse.GetValue(datasets)!), parse.GetValue(maxSamples));

            var statistics = DatasetRouting.Collect(loaded, tok, data, parse.GetValue(cutoffLen), parse.GetValue(batchSize));
            statistics.SaveCsv(parse.GetValue(output)!);
            foreach (var counts in statistics.Counts)
                parse.InvocationConfiguration.Output.WriteLine(
                    $"{counts.Language,-12} layer {counts.Layer,3}  tokens {counts.Tokens,9}  expert-0 selected {counts.SelectionRate(0),6:P1}  mean p0 {counts.MeanProbability(0):F3}");
            parse.InvocationConfiguration.Output.WriteLine($"wrote {Path.Combine(parse.GetValue(output)!, RoutingStatistics.ExpertsCsv)} and {RoutingStatistics.LayersCsv}");
        }));
        return command;
    }
}
