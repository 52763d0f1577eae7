using System.CommandLine;
using MoeLpr.Data;
using MoeLpr.Evaluation;
using MoeLpr.Reporting;

namespace MoeLpr.Cli.Commands;

/// <summary><c>moelpr routes</c>: routing statistics per dataset × MoE layer × expert, written as CSV.</summary>
public static class RoutesCommand
{
    public static Command Create()
    {
        var defaults = new RoutingOptions { ModelDir = "", Datasets = [] };
        var model = new ModelOptionGroup(defaults.Dtype, "MoE adapter folder (none for a Mixtral --model folder)");
        var data = new DataOptionGroup(defaults);
        var device = new DeviceOptionGroup(defaults);
        var batch = new Option<int>("--batch-size")
        {
            Description = "Blocks per forward pass", DefaultValueFactory = _ => defaults.BatchSize,
        };
        var output = SharedOptions.Output($"Folder for {RoutingCsv.ExpertsFile} and {RoutingCsv.LayersFile}");

        var command = new Command("routes", "Routing statistics per dataset: expert selection rates, " +
                                            "mean router probabilities, expert-0 share, load balance");
        model.AddTo(command);
        data.AddTo(command);
        SharedOptions.AddTo(command, batch, output);
        device.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var options = new RoutingOptions
            {
                ModelDir = model.ModelDir(parse), Datasets = data.Datasets(parse), BatchSize = parse.GetValue(batch),
            };
            options = device.Apply(data.Apply(model.Apply(options, parse), parse), parse);
            var statistics = RoutingRun.Run(options);
            string folder = parse.GetValue(output)!;
            var registry = DatasetRegistry.Open(options.DatasetInfo);
            // Counted per dataset, not per language; the group says which side of the language prior it is on.
            RoutingCsv.Write(statistics, folder, labelColumn: "dataset",
                groupOf: name => registry.Get(name).Language ?? "");
            var console = parse.InvocationConfiguration.Output;
            foreach (var counts in statistics.Counts)
                console.WriteLine($"{counts.Language,-12} layer {counts.Layer,3}  tokens {counts.Tokens,9}  " +
                                  $"expert-0 selected {counts.SelectionRate(0),6:P1}  mean p0 " +
                                  $"{counts.MeanProbability(0):F3}");
            console.WriteLine($"wrote {Path.Combine(folder, RoutingCsv.ExpertsFile)} and {RoutingCsv.LayersFile}");
        }));
        return command;
    }
}
