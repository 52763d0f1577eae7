using System.CommandLine;
using MoeLpr.Training.Recipes;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// <c>moelpr recipe --stage 1|2</c>: the options of <c>train</c>, written as the authors' LLaMA-Factory run for many
/// GPUs (<see cref="LlamaFactoryRecipe"/>).
/// </summary>
public static class RecipeCommand
{
    public static Command Create()
    {
        var training = new TrainingOptionGroup("1 (stage1.sh) or 2 (stage2.sh)",
            "Recipe folder to write (the script, ds_config.json, data/dataset_info.json, README.md)");
        var defaults = new RecipeOptions { Training = new() { ModelDir = "", Datasets = [], OutputDir = "" } };
        var gpus = new Option<int>("--num-gpus", "--num_gpus")
        {
            Description = "GPUs the DeepSpeed launcher starts (the script's NUM_GPUS)",
            DefaultValueFactory = _ => defaults.NumGpus,
        };
        var port = new Option<int>("--master-port", "--master_port")
        {
            Description = "The launcher's port (the script's MASTER_PORT)",
            DefaultValueFactory = _ => defaults.MasterPort,
        };

        var command = new Command("recipe",
            "Write the authors' LLaMA-Factory + DeepSpeed run (stage1.sh/stage2.sh) for train's model, data and " +
            "settings");
        training.AddTo(command);
        SharedOptions.AddTo(command, gpus, port);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var run = training.Read(parse);
            var result = LlamaFactoryRecipe.Write(defaults with
            {
                Training = run, NumGpus = parse.GetValue(gpus), MasterPort = parse.GetValue(port),
            });
            var console = parse.InvocationConfiguration.Output;
            foreach (var warning in training.UnusedOptionWarnings(parse, run, forRecipe: true))
                console.WriteLine(warning);
            foreach (var warning in result.Warnings) console.WriteLine($"warning: {warning}");
            console.WriteLine($"wrote {result.Folder}: {string.Join(", ", result.Files)}");
        }));
        return command;
    }
}
