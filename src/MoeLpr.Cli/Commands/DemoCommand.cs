using System.CommandLine;
using MoeLpr.Demo;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// <c>moelpr demo</c>: the small-scale MoE-LPR replication from the shipped base model (<see cref="DemoPipeline"/>).
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var defaults = new DemoOptions();
        var device = new DeviceOptionGroup(defaults);
        var quick = new Option<bool>("--quick")
        {
            Description = "A few steps on a few pages (under two minutes): checks the plumbing, not the method",
        };
        var output = new Option<string>("--output", "--output_dir", "--out")
        {
            Description = "Results folder", DefaultValueFactory = _ => defaults.OutputDir,
        };
        var seed = new Option<long>("--seed")
        {
            Description = "Seed for upcycling, LoRA init and data order", DefaultValueFactory = _ => defaults.Seed,
        };
        var model = new Option<string>("--base-model", "--model", "--model_name_or_path")
        {
            Description = "Dense HF base model folder with its tokenizer",
            DefaultValueFactory = _ => defaults.BaseModelDir,
        };
        var datasetInfo = SharedOptions.DatasetInfo();
        var task = new Option<string?>("--task")
        {
            Description = "Multiple-choice task file scored for every model",
            DefaultValueFactory = _ => defaults.TaskFile,
        };
        var cacheDir = new Option<string?>("--cache-dir") { Description = "Cache packed corpora here between runs" };

        var command = new Command("demo", "Run the small-scale MoE-LPR replication (base, full FT, LoRA, " +
                                          "MoE stage 1, MoE-LPR) and write results + report");
        SharedOptions.AddTo(command, quick, output, seed, model, datasetInfo, task, cacheDir);
        device.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(parse, () => DemoPipeline.Run(device.Apply(new DemoOptions
        {
            Size = parse.GetValue(quick) ? DemoSize.Quick : DemoSize.Default,
            OutputDir = parse.GetValue(output)!,
            Seed = parse.GetValue(seed),
            BaseModelDir = parse.GetValue(model)!,
            DatasetInfo = parse.GetValue(datasetInfo)!,
            TaskFile = parse.GetValue(task),
            CacheDir = parse.GetValue(cacheDir),
        }, parse), parse.InvocationConfiguration.Output)));
        return command;
    }
}
