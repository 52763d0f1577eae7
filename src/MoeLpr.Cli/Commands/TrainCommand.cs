using System.CommandLine;
using MoeLpr.Training;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// <c>moelpr train --stage 1|2|full|lora</c>: fills <see cref="TrainingOptions"/> and calls <see cref="TrainingRun"/>.
/// Ctrl+C or SIGTERM stops after the current step, writes a checkpoint and exits with
/// <see cref="StopSignals.StoppedExitCode"/>, so that a script does not go on as if the run had finished.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var training = new TrainingOptionGroup(
            "1 (experts + routers, balance loss), 2 (routers, LPR loss), full (every weight, LM loss) " +
            "or lora (a PEFT LoRA adapter, LM loss)",
            "Output folder (adapter or model, tokenizer, metrics.jsonl, checkpoints)");
        var device = new DeviceOptionGroup(new TrainingOptions { ModelDir = "", Datasets = [], OutputDir = "" });
        var resume = new Option<bool>("--resume") { Description = "Continue from the latest checkpoint in --output" };

        var command = new Command("train",
            "Train MoE-LPR stage 1 or 2, or a full fine-tune or LoRA baseline, on registered datasets");
        training.AddTo(command);
        device.AddTo(command);
        SharedOptions.AddTo(command, resume);

        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var options = device.Apply(training.Read(parse), parse) with { Resume = parse.GetValue(resume) };
            foreach (var warning in training.UnusedOptionWarnings(parse, options, forRecipe: false))
                parse.InvocationConfiguration.Error.WriteLine(warning);
            using var stop = new StopSignals();
            var result = TrainingRun.Run(options, parse.InvocationConfiguration.Output, stop.Token);
            return result.Completed ? 0 : StopSignals.StoppedExitCode;
        }));
        return command;
    }
}
