using System.CommandLine;
using MoeLpr.Evaluation;
using MoeLpr.Reporting;

namespace MoeLpr.Cli.Commands;

/// <summary>
/// <c>moelpr tasks</c>: multiple-choice accuracy per language (lm-evaluation-harness style), written as CSV.
/// </summary>
public static class TasksCommand
{
    public static Command Create()
    {
        var defaults = new TaskRunOptions { ModelDir = "", TaskFile = "" };
        var model = new ModelOptionGroup(defaults.Dtype, "MoE or LoRA adapter folder (omit for the model alone)");
        var device = new DeviceOptionGroup(defaults);
        var task = new Option<string>("--task")
        {
            Description = "Task JSONL (context, choices, gold, language)", Required = true,
        };
        var numFewShot = new Option<int>("--num-fewshot", "--num_fewshot")
        {
            Description = "Solved examples before each question (needs --fewshot-task)",
            DefaultValueFactory = _ => defaults.NumFewShot,
        };
        var fewShotTask = new Option<string?>("--fewshot-task")
        {
            Description = "Task JSONL the few-shot examples come from (a different split; needed with --num-fewshot)",
        };
        var seed = new Option<int>("--seed")
        {
            Description = "Few-shot sampling seed", DefaultValueFactory = _ => defaults.Seed,
        };
        var batchSize = new Option<int>("--batch-size")
        {
            Description = "Continuations per forward pass", DefaultValueFactory = _ => defaults.BatchSize,
        };
        var limit = new Option<int?>("--limit")
        {
            Description = "Score only the first N items of each language (default: all)",
        };
        var output = SharedOptions.OutputFile("CSV file for the per-language results");

        var command = new Command("tasks",
            "Multiple-choice evaluation: acc and acc_norm per language from continuation log-likelihoods");
        model.AddTo(command);
        SharedOptions.AddTo(command, task, numFewShot, fewShotTask, seed, batchSize, limit, output);
        device.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var result = TaskRun.Run(device.Apply(new TaskRunOptions
            {
                ModelDir = model.ModelDir(parse), AdapterDir = model.AdapterDir(parse),
                TokenizerDir = model.TokenizerDir(parse), Dtype = model.Dtype(parse), TaskFile = parse.GetValue(task)!,
                NumFewShot = parse.GetValue(numFewShot), FewShotTaskFile = parse.GetValue(fewShotTask),
                Seed = parse.GetValue(seed), BatchSize = parse.GetValue(batchSize), Limit = parse.GetValue(limit),
            }, parse));
            DataFrameExport.WriteCsv(result.PerLanguage(), parse.GetValue(output)!);
            var frame = result.PerLanguage();
            for (int row = 0; row < frame.Rows.Count; row++)
                parse.InvocationConfiguration.Output.WriteLine(
                    $"{frame.Rows[row]["language"],-6} items {frame.Rows[row]["items"],5}  " +
                    $"acc {(double)frame.Rows[row]["acc"]!:F4}  acc_norm {(double)frame.Rows[row]["acc_norm"]!:F4}");
            parse.InvocationConfiguration.Output.WriteLine($"wrote {parse.GetValue(output)}");
        }));
        return command;
    }
}
