using System.CommandLine;
using MoeLpr.Evaluation;

namespace MoeLpr.Cli.Commands;

/// <summary><c>moelpr inspect</c>: the parity hook; writes logits, router logits and losses of one sequence.</summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "--model_name_or_path")
        {
            Description = "Base HF model folder", Required = true,
        };
        var adapter = new Option<string?>("--adapter", "--adapter_name_or_path")
        {
            Description = "MoE or LoRA adapter folder (omit for the model alone)",
        };
        var ids = new Option<string>("--ids") { Description = "Token ids, e.g. 5,17,3", Required = true };
        var oldMask = new Option<string?>("--old-mask", "--old_mask")
        {
            Description = "Per-token old-language flags, e.g. 1,1,0 (default: all 0)",
        };
        var output = SharedOptions.OutputFile("safetensors file to write");

        var command = new Command("inspect",
            "Write float32 logits [T,V], router_logits [L_moe,T,N] and lm_loss, aux_loss, lpr_loss, " +
            "lpr_loss_reference for one sequence");
        foreach (var option in new Option[] { model, adapter, ids, oldMask, output }) command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var tokenIds = CommaSeparated.Longs(parse.GetValue(ids)!, "--ids");
            var mask = parse.GetValue(oldMask) is string flags ? CommaSeparated.Flags(flags, "--old-mask") : null;
            ParityInspector.Run(parse.GetValue(model)!, parse.GetValue(adapter), tokenIds, mask,
                parse.GetValue(output)!);
            parse.InvocationConfiguration.Output.WriteLine($"wrote {parse.GetValue(output)}");
        }));
        return command;
    }
}
