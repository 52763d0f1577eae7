using System.Diagnostics;
using MoeLpr.Data;
using MoeLpr.Evaluation;
using MoeLpr.Model;
using MoeLpr.Training;
using static TorchSharp.torch;

namespace MoeLpr.Demo;

/// <summary>
/// Runs one demo training with the shared <see cref="Trainer"/> (its own folder under <c>runs/</c>, with metrics.jsonl,
/// the weights in the policy's release format and the tokenizer files) and scores the result on every language's test
/// blocks.
/// Every run uses the demo's seed, so runs over the same corpus see the same blocks in the same order.
/// </summary>
internal sealed class DemoTrainer(DemoOptions options, DemoCorpora corpora, LoadedTokenizer tokenizer, Device device,
    TextWriter console)
{
    public DemoVariant TrainAndEvaluate(string key, string label, LlamaForCausalLM model, TrainingPolicy policy,
                                        PackedCorpus corpus, int steps, double learningRate)
    {
        string runDir = RunDir(options.OutputDir, key);
        ClearRunDir(runDir);
        var trainerOptions = TrainerOptionsFor(options, steps, learningRate) with
        {
            MaskedLabelTokenId = tokenizer.EosId, Device = device,
        };
        var watch = Stopwatch.StartNew();
        var result = new Trainer(model, policy, corpus, trainerOptions, runDir, console).Train();
        if (!result.Completed)
            throw new InvalidOperationException(
                $"{runDir}: training stopped at step {result.GlobalStep}/{result.PlannedSteps}");
        TokenizerLoader.CopyFiles(options.BaseModelDir, runDir);
        return Evaluate(key, label, model, runDir, watch.Elapsed);
    }

    public DemoVariant Evaluate(string key, string label, LlamaForCausalLM model, string? runDir, TimeSpan trainingTime)
    {
        var counts = ParameterCounts.Of(model);
        var report = PerplexityEvaluator.Evaluate(model, corpora.Evaluation, options.Size.BatchSize,
            tokenizer.EosId, device);
        console.WriteLine(
            "   perplexity " + string.Join("  ", DemoLanguages.All.Select(l => $"{l} {report[l].Perplexity:0.00}")));
        var accuracy = TaskAccuracy(model);
        if (accuracy.Count > 0)
            console.WriteLine(
                "   next-sentence acc_norm " + string.Join("  ", accuracy.Select(p => $"{p.Key} {p.Value:0.00}")));
        return new DemoVariant(key, label, report, counts.Total, counts.ActivePerToken,
                               runDir is null ? 0 : counts.Trainable, runDir, trainingTime, accuracy);
    }

    /// <summary>Zero-shot acc_norm per language on the task items (the harness's length-normalised pick).</summary>
    IReadOnlyDictionary<string, double> TaskAccuracy(LlamaForCausalLM model)
    {
        if (corpora.TaskItems.Count == 0) return new Dictionary<string, double>();
        var result = MultipleChoiceEvaluator.Evaluate(model, tokenizer.Tokenizer, tokenizer.EosId,
                                                      corpora.TaskItems, new MultipleChoiceOptions(BatchSize: 16));
        return result.Scores.GroupBy(s => s.Item.Language)
                     .ToDictionary(g => g.Key, g => g.Average(s => s.NormalizedPrediction == s.Item.Gold ? 1.0 : 0.0));
    }

    /// <summary>
    /// Deletes a previous run's folder so that the run starts afresh, but only a training run's (it has a
    /// metrics.jsonl) or an empty one: under an --output the user reused it may be their own folder.
    /// </summary>
    internal static void ClearRunDir(string runDir)
    {
        if (!Directory.Exists(runDir)) return;
        bool trainingRun = File.Exists(Path.Combine(runDir, MetricsFile.FileName));
        if (!trainingRun && Directory.EnumerateFileSystemEntries(runDir).Any())
            throw new IOException($"{runDir}: holds files that are not a training run of the demo, which would " +
                                  "replace this folder; choose another --output");
        Directory.Delete(runDir, recursive: true);
    }

    public static string RunDir(string outputDir, string key) => Path.Combine(outputDir, DemoPipeline.RunsFolder, key);

    /// <summary>
    /// The optimiser settings of every demo training: the size's batch, warmup and logging, the demo's seed.
    /// </summary>
    public static TrainerOptions TrainerOptionsFor(DemoOptions options, int steps, double learningRate) => new()
    {
        LearningRate = learningRate, BatchSize = options.Size.BatchSize, MaxSteps = steps,
        WarmupSteps = Math.Min(options.Size.WarmupSteps, steps - 1), LoggingSteps = options.Size.LoggingSteps,
        Seed = options.Seed,
    };

    /// <summary>Tokens (and old-language tokens) a demo training of <paramref name="steps"/> steps processes: the
    /// blocks the trainer's own <see cref="BatchPlan"/> visits.</summary>
    public static (long Tokens, long OldTokens) TokensSeen(PackedCorpus corpus, DemoOptions options, int steps)
    {
        var blocks = new BatchPlan(corpus.Count, TrainerOptionsFor(options, steps, options.Size.LearningRate))
            .BlocksOfFirstSteps(steps).ToList();
        return ((long)blocks.Count * corpus.CutoffLen,
            blocks.Sum(b => (long)corpus.OldLanguage[b].Count(isOld => isOld)));
    }
}
