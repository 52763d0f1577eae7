using System.CommandLine;
using MoeLpr.Checkpoints;

namespace MoeLpr.Cli.Commands;

/// <summary><c>moelpr export</c>: base model + MoE adapter → standalone HF Mixtral checkpoint.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "--model_name_or_path")
        {
            Description = "Base HF model folder (llama or mistral)", Required = true,
        };
        var adapter = new Option<string>("--adapter", "--adapter_name_or_path")
        {
            Description = "MoE adapter folder", Required = true,
        };
        var output = SharedOptions.Output("Mixtral checkpoint folder to write");
        var shard = new Option<long?>("--max-shard-bytes")
        {
            Description = "Split the weights into shards of at most this many bytes",
        };

        var command = new Command("export",
            "Merge a base model and its MoE adapter into a MixtralForCausalLM checkpoint");
        foreach (var option in new Option[] { model, adapter, output, shard }) command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            if (parse.GetValue(shard) is < 1)
                throw new ArgumentException($"--max-shard-bytes must be at least 1 (got {parse.GetValue(shard)})");
            MixtralExporter.Export(parse.GetValue(model)!, parse.GetValue(adapter)!, parse.GetValue(output)!,
                                   parse.GetValue(shard));
            parse.InvocationConfiguration.Output.WriteLine($"wrote {parse.GetValue(output)}");
        }));
        return command;
    }
}
