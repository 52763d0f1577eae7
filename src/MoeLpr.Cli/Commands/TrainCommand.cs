using System.CommandLine;
using MoeLpr.Training;
using MoeLpr.Training.Losses;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// <c>moelpr train --stage 1|2|full</c>: fills <see cref="TrainingOptions"/> and calls <see cref="TrainingRun"/>.
/// Ctrl+C stops after the current step and writes a checkpoint.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var defaults = new TrainingOptions { ModelDir = "", Datasets = [], OutputDir = "" };
        var stage = new Option<string>("--stage")
        {
            Description = "1 (experts + routers, balance loss), 2 (routers, LPR loss) or full (every weight, LM loss)",
            Required = true,
        };
        var model = new ModelOptionGroup(defaults.Dtype,
            "MoE adapter to continue (stage 2: the stage-1 output; stage 1: optional, else the model is upcycled)");
        var data = new DataOptionGroup(defaults);
        var device = new DeviceOptionGroup(defaults);
        var optimization = new OptimizationOptionGroup(defaults.Optimization);
        var moe = new MoeOptionGroup(defaults.NumExperts, defaults.TopK);
        var output = SharedOptions.Output("Output folder (adapter or model, metrics.jsonl, checkpoints)");
        var auxCoef = new Option<double>("--aux-loss-coef", "--aux_loss_coef")
        {
            Description = "Stage-1 load-balancing loss weight", DefaultValueFactory = _ => defaults.AuxLossCoef,
        };
        var lprCoef = new Option<double>("--lpr-loss-coef", "--lpr_loss_coef")
        {
            Description = "Stage-2 LPR loss weight", DefaultValueFactory = _ => defaults.LprLossCoef,
        };
        var lprForm = new Option<string>("--lpr-loss-form", "--lpr_loss_form")
        {
            Description = "nll (-log p0, the paper) or reference (the released code's CE on probabilities)",
            DefaultValueFactory = _ => "nll",
        };
        var replaySamples = new Option<int?>("--replay-max-samples", "--replay_max_samples")
        {
            Description = "First N documents of each old-language dataset (stage 2's replay; default: --max-samples)",
        };
        var resume = new Option<bool>("--resume") { Description = "Continue from the latest checkpoint in --output" };

        var command = new Command("train", "Train MoE-LPR stage 1 or 2 (or a full fine-tune) on registered datasets");
        SharedOptions.AddTo(command, stage, output);
        model.AddTo(command);
        data.AddTo(command);
        moe.AddTo(command);
        SharedOptions.AddTo(command, auxCoef, lprCoef, lprForm, replaySamples);
        optimization.AddTo(command);
        device.AddTo(command);
        SharedOptions.AddTo(command, resume);

        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var options = new TrainingOptions
            {
                Stage = ParseStage(parse.GetValue(stage)!),
                ModelDir = model.ModelDir(parse),
                Datasets = data.Datasets(parse),
                OutputDir = parse.GetValue(output)!,
                NumExperts = moe.NumExperts(parse),
                TopK = moe.TopK(parse),
                AuxLossCoef = parse.GetValue(auxCoef),
                LprLossCoef = parse.GetValue(lprCoef),
                LprLossForm = ParseLprForm(parse.GetValue(lprForm)!),
                ReplayMaxSamples = parse.GetValue(replaySamples),
                Optimization = optimization.Read(parse),
                Resume = parse.GetValue(resume),
            };
            options = device.Apply(data.Apply(model.Apply(options, parse), parse), parse);
            using var stop = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try { TrainingRun.Run(options, parse.InvocationConfiguration.Output, stop.Token); }
            finally { Console.CancelKeyPress -= onCancel; }
        }));
        return command;
    }

    static TrainingStage ParseStage(string value) => value.Trim().ToLowerInvariant() switch
    {
        "1" => TrainingStage.Stage1,
        "2" => TrainingStage.Stage2,
        "full" => TrainingStage.Full,
        _ => throw new ArgumentException($"--stage: '{value}' is not 1, 2 or full"),
    };

    static LprLossForm ParseLprForm(string value) => value.Trim().ToLowerInvariant() switch
    {
        "nll" => LprLossForm.Nll,
        "reference" => LprLossForm.Reference,
        _ => throw new ArgumentException($"--lpr-loss-form: '{value}' is not nll or reference"),
    };
}
