using System.CommandLine;
using MoeLpr.Checkpoints;
using MoeLpr.Model;
using MoeLpr.Training;
using MoeLpr.Upcycling;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// <c>moelpr upcycle</c>: dense HF model → MoE-LPR adapter (experts copied from the MLP, fresh routers).
/// </summary>
public static class UpcycleCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "--model_name_or_path")
        {
            Description = "Dense HF model folder (config.json + safetensors)", Required = true,
        };
        var output = SharedOptions.Output("Adapter folder to write");
        var moe = new MoeOptionGroup();
        var layers = new Option<string?>("--layers", "--layers_to_transform")
        {
            Description = "Layers to upcycle, e.g. 0,1,2 (default: all)",
        };
        var seed = new Option<long>("--seed")
        {
            Description = "Router initialisation seed", DefaultValueFactory = _ => new Training.TrainerOptions().Seed,
        };

        var command = new Command("upcycle", "Turn a dense model into an MoE and write the PEFT-style MoE adapter");
        SharedOptions.AddTo(command, model, output);
        moe.AddTo(command);
        SharedOptions.AddTo(command, layers, seed);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            string modelDir = parse.GetValue(model)!;
            var layerList = parse.GetValue(layers) is string text
                ? CommaSeparated.Longs(text, "--layers").Select(ToLayerIndex).ToArray()
                : [];
            var config = new MoeConfig
            {
                NumExperts = moe.NumExperts(parse),
                TopK = moe.TopK(parse),
                LayersToTransform = layerList,
                BaseModelNameOrPath = Path.GetFullPath(modelDir),
            };
            config.Validate("--num-experts/--topk");
            string outputDir = parse.GetValue(output)!;
            TrainerState.RequireNoFinishedRun(outputDir);   // a trained adapter is not replaced by a fresh one
            AtomicDirectory.RequireNewOrEmpty(outputDir);   // nor is any other folder's content
            using var writing = RunLock.Acquire(outputDir);
            using var llm = HfModelDirectory.Load(modelDir);
            int layerCount = llm.Config.NumHiddenLayers;
            var outside = layerList.Where(layer => layer >= layerCount).ToList();
            if (outside.Count > 0)
                throw new ArgumentException(
                    $"--layers: {string.Join(", ", outside)} is not a layer of {modelDir} (0..{layerCount - 1})");
            Upcycler.Upcycle(llm, config, parse.GetValue(seed));
            MoeAdapter.Save(llm, config, outputDir);
            parse.InvocationConfiguration.Output.WriteLine(
                $"wrote {parse.GetValue(output)}: {llm.MoeBlocks.Count} MoE layers, " +
                $"{config.NumExperts} experts, top-{config.TopK}");
        }));
        return command;
    }

    static int ToLayerIndex(long value) =>
        value is >= 0 and <= int.MaxValue ? (int)value
            : throw new ArgumentException($"--layers: {value} is not a layer index");
}
