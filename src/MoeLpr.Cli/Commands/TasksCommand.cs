using System.CommandLine;
using MoeLpr.Checkpoints;
using MoeLpr.Data;
using MoeLpr.Evaluation;

namespace MoeLpr.Cli.Commands;

/// <summary><c>moelpr tasks</c>: multiple-choice accuracy per language (lm-evaluation-harness style), written as CSV.</summary>
public static class TasksCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Base HF model folder", Required = true };
        var adapter = new Option<string?>("--adapter") { Description = "MoE adapter folder (omit for the dense model)" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer folder (default: the model folder)" };
        var task = new Option<string>("--task") { Description = "Task JSONL (context, choices, gold, language)", Required = true };
        var numFewShot = new Option<int>("--num-fewshot", "--num_fewshot") { Description = "Solved examples before each question", DefaultValueFactory = _ => 0 };
        var fewShotTask = new Option<string?>("--fewshot-task") { Description = "Task JSONL the few-shot examples come from (a different split)" };
        var seed = new Option<int>("--seed") { Description = "Few-shot sampling seed", DefaultValueFactory = _ => FewShotSampler.DefaultSeed };
        var batchSize = new Option<int>("--batch-size") { Description = "Continuations per forward pass", DefaultValueFactory = _ => 8 };
        var output = new Option<string>("--output", "--out") { Description = "CSV file for the per-language results", Required = true };

        var command = new Command("tasks", "Multiple-choice evaluation: acc and acc_norm per language from continuation log-likelihoods");
        foreach (var option in new Option[] { model, adapter, tokenizer, task, numFewShot, fewShotTask, seed, batchSize, output }) command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            string modelDir = parse.GetValue(model)!;
            int shots = parse.GetValue(numFewShot);
            if (shots > 0 && parse.GetValue(fewShotTask) is null)
                throw new ArgumentException("--num-fewshot needs --fewshot-task (examples must come from another split)");
            var items = MultipleChoiceTaskFile.Load(parse.GetValue(task)!);
            var pool = parse.GetValue(fewShotTask) is string poolPath ? MultipleChoiceTaskFile.Load(poolPath) : null;
            using var loaded = HfModelDirectory.Load(modelDir);
            if (parse.GetValue(adapter) is string adapterDir) MoeAdapter.Load(loaded, adapterDir);
            var tok = TokenizerLoader.Load(parse.GetValue(tokenizer) ?? modelDir);

            var result = MultipleChoiceEvaluator.Evaluate(loaded, tok.Tokenizer, tok.EosId, items,
                new MultipleChoiceOptions(shots, pool, parse.GetValue(seed), parse.GetValue(batchSize)));
            result.SaveCsv(parse.GetValue(output)!);
            var frame = result.PerLanguage();
            for (int row = 0; row < frame.Rows.Count; row++)
                parse.InvocationConfiguration.Output.WriteLine(
                    $"{frame.Rows[row]["language"],-6} items {frame.Rows[row]["items"],5}  acc {(double)frame.Rows[row]["acc"]!:F4}  acc_norm {(double)frame.Rows[row]["acc_norm"]!:F4}");
            parse.InvocationConfiguration.Output.WriteLine($"wrote {parse.GetValue(output)}");
        }));
        return command;
    }
}
