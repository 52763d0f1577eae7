using System.CommandLine;
using MoeLpr.Demo;

namespace MoeLpr.Cli.Commands;

/// <summary><c>moelpr demo</c>: the small-scale MoE-LPR replication from the shipped base model (<see cref="DemoPipeline"/>).</summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var defaults = new DemoOptions();
        var quick = new Option<bool>("--quick") { Description = "A few steps on a few pages (under two minutes): checks the plumbing, not the method" };
        var output = new Option<string>("--output", "--output_dir") { Description = "Results folder", DefaultValueFactory = _ => defaults.OutputDir };
        var seed = new Option<long>("--seed") { Description = "Seed for upcycling, LoRA init and data order", DefaultValueFactory = _ => defaults.Seed };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda, cuda:N or mps", DefaultValueFactory = _ => defaults.Device };
        var threads = new Option<int?>("--threads") { Description = "libtorch CPU threads (1 is fastest on a busy machine)" };
        var model = new Option<string>("--base-model") { Description = "Dense HF base model folder with its tokenizer", DefaultValueFactory = _ => defaults.BaseModelDir };
        var datasetInfo = new Option<string>("--dataset-info", "--dataset_info") { Description = "The dataset registry", DefaultValueFactory = _ => defaults.DatasetInfo };
        var cacheDir = new Option<string?>("--cache-dir") { Description = "Cache packed corpora here between runs" };

        var command = new Command("demo", "Run the small-scale MoE-LPR replication (base, full FT, LoRA, MoE stage 1, MoE-LPR) and write results + report");
        foreach (var option in new Option[] { quick, output, seed, device, threads, model, datasetInfo, cacheDir }) command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(parse, () => DemoPipeline.Run(new DemoOptions
        {
            Size = parse.GetValue(quick) ? DemoSize.Quick : DemoSize.Default,
            OutputDir = parse.GetValue(output)!,
            Seed = parse.GetValue(seed),
            Device = parse.GetValue(device)!,
            Threads = parse.GetValue(threads),
            BaseModelDir = parse.GetValue(model)!,
            DatasetInfo = parse.GetValue(datasetInfo)!,
            CacheDir = parse.GetValue(cacheDir),
        }, parse.InvocationConfiguration.Output)));
        return command;
    }
}
