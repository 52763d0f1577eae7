using System.CommandLine;
using MoeLpr.Data;
using MoeLpr.Evaluation;

namespace MoeLpr.Cli.Commands;

/// <summary><c>moelpr eval</c>: perplexity per dataset and per old/new group, printed and optionally written as CSV.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "--model_name_or_path") { Description = "Dense HF base model folder (with its tokenizer)", Required = true };
        var adapter = new Option<string?>("--adapter", "--adapter_name_or_path") { Description = "MoE adapter to apply" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer folder (default: the model folder)" };
        var dataset = new Option<string>("--dataset") { Description = "Comma-separated dataset names from dataset_info.json", Required = true };
        var datasetInfo = new Option<string>("--dataset-info", "--dataset_info") { Description = "The dataset registry", DefaultValueFactory = _ => "data/dataset_info.json" };
        var output = new Option<string?>("--output") { Description = "CSV file to write" };
        var maxSamples = new Option<int?>("--max-samples", "--max_samples") { Description = "First N documents of each dataset" };
        var cutoff = new Option<int>("--cutoff-len", "--cutoff_len") { Description = "Tokens per packed block", DefaultValueFactory = _ => 512 };
        var batch = new Option<int>("--batch-size", "--per_device_eval_batch_size") { Description = "Blocks per forward pass", DefaultValueFactory = _ => 4 };
        var dtype = new Option<string>("--dtype") { Description = "Weight dtype: float32 or bfloat16", DefaultValueFactory = _ => "float32" };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda, cuda:N or mps", DefaultValueFactory = _ => "auto" };
        var threads = new Option<int?>("--threads") { Description = "libtorch CPU threads" };
        var allowSha1 = new Option<bool>("--allow-sha1-mismatch") { Description = "Use dataset files whose SHA-1 differs from dataset_info.json" };
        var keepEos = new Option<bool>("--keep-eos-targets") { Description = "Score EOS targets too (training masks them by default)" };

        var command = new Command("eval", "Perplexity of a model (and adapter) per dataset and per old/new language group");
        foreach (var option in new Option[] { model, adapter, tokenizer, dataset, datasetInfo, output, maxSamples, cutoff, batch, dtype, device, threads, allowSha1, keepEos })
            command.Options.Add(option);
        command.SetAction(parse => CommandRunner.Run(parse, () =>
        {
            var report = EvaluationRun.Run(new EvaluationOptions
            {
                ModelDir = parse.GetValue(model)!,
                AdapterDir = parse.GetValue(adapter),
                TokenizerDir = parse.GetValue(tokenizer),
                Datasets = DatasetRegistry.ParseNames(parse.GetValue(dataset)!),
                DatasetInfo = parse.GetValue(datasetInfo)!,
                MaxSamples = parse.GetValue(maxSamples),
                CutoffLen = parse.GetValue(cutoff),
                BatchSize = parse.GetValue(batch),
                Dtype = parse.GetValue(dtype)!,
                Device = parse.GetValue(device)!,
                Threads = parse.GetValue(threads),
                AllowSha1Mismatch = parse.GetValue(allowSha1),
                MaskEosInLabels = !parse.GetValue(keepEos),
            });
            parse.InvocationConfiguration.Output.Write(report.ToTable());
            if (parse.GetValue(output) is string csv)
            {
                report.SaveCsv(csv);
                parse.InvocationConfiguration.Output.WriteLine($"wrote {csv}");
            }
        }));
        return command;
    }
}
