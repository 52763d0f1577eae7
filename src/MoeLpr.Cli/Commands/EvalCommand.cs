using System.CommandLine;
using MoeLpr.Evaluation;
using MoeLpr.Reporting;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// <c>moelpr eval</c>: perplexity per dataset and per old/new group, printed and optionally written as CSV.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var defaults = new EvaluationOptions { ModelDir = "", Datasets = [] };
        var model = new ModelOptionGroup(defaults.Dtype, "MoE or LoRA adapter to apply (peft_type MOE or LORA)");
        var data = new DataOptionGroup(defaults);
        var device = new DeviceOptionGroup(defaults);
        var batch = new Option<int>("--batch-size", "--per_device_eval_batch_size")
        {
            Description = "Blocks per forward pass", DefaultValueFactory = _ => defaults.BatchSize,
        };
        var output = new Option<string?>("--output", "--out") { Description = "CSV file to write" };

        var command = new Command("eval",
            "Perplexity of a model (and adapter) per dataset and per old/new language group");
        model.AddTo(command);
        data.AddTo(command);
        SharedOptions.AddTo(command, batch, output);
        device.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            string modelDir = model.ModelDir(parse);
            var options = new EvaluationOptions
            {
                ModelDir = modelDir, Datasets = data.Datasets(parse), BatchSize = parse.GetValue(batch),
            };
            var report = EvaluationRun.Run(device.Apply(data.Apply(model.Apply(options, parse), parse), parse),
                parse.InvocationConfiguration.Output);
            parse.InvocationConfiguration.Output.Write(report.ToTable());
            if (parse.GetValue(output) is string csv)
            {
                DataFrameExport.WriteCsv(report.ToDataFrame(), csv);
                parse.InvocationConfiguration.Output.WriteLine($"wrote {csv}");
            }
            // NaN is a broken model (NaN weights, a config it cannot run with), not a score: fail after showing it.
            var broken = report.Rows.Where(row => row.Kind == "dataset" && double.IsNaN(row.MeanNll)).ToList();
            if (broken.Count > 0)
                throw new InvalidDataException($"{modelDir}: the mean NLL is NaN on " +
                    $"{string.Join(", ", broken.Select(row => row.Name))} (NaN in the weights or the adapter?)");
        }));
        return command;
    }
}
