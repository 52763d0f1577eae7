using System.Diagnostics;
using MoeLpr.Data;
using MoeLpr.Evaluation;
using MoeLpr.Model;
using MoeLpr.Training;
using static TorchSharp.torch;

namespace MoeLpr.Demo;

/// <summary>
/// Runs one demo training with the shared <see cref="Trainer"/> (its own folder under <c>runs/</c>, with metrics.jsonl
/// and the weights in the policy's release format) and scores the result on every language's test blocks.
/// Every run uses the demo's seed, so runs over the same corpus see the same blocks in the same order.
/// </summary>
public sealed class DemoTrainer(DemoOptions options, DemoCorpora corpora, int eosId, Device device, TextWriter console)
{
    public DemoVariant TrainAndEvaluate(string key, string label, LlamaForCausalLM model, TrainingPolicy policy,
                                        PackedCorpus corpus, int steps, double learningRate)
    {
        var size = options.Size;
        string runDir = RunDir(options.OutputDir, key);
        if (Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true);
        var trainerOptions = new TrainerOptions
        {
            LearningRate = learningRate, BatchSize = size.BatchSize, MaxSteps = steps,
            WarmupSteps = Math.Min(size.WarmupSteps, steps - 1), LoggingSteps = size.LoggingSteps,
            Seed = options.Seed, MaskedLabelTokenId = eosId, Device = device,
        };
        var watch = Stopwatch.StartNew();
        var result = new Trainer(model, policy, corpus, trainerOptions, runDir, console).Train();
        if (!result.Completed) throw new InvalidOperationException($"{runDir}: training stopped at step {result.GlobalStep}/{result.PlannedSteps}");
        return Evaluate(key, label, model, runDir, watch.Elapsed);
    }

    public DemoVariant Evaluate(string key, string label, LlamaForCausalLM model, string? runDir, TimeSpan trainingTime)
    {
        long trainable = ParameterCounts.Trainable(model);
        var report = PerplexityEvaluator.Evaluate(model, corpora.Evaluation, options.Size.BatchSize, eosId, device);
        console.WriteLine(string.Join("  ", DemoLanguages.All.Select(l => $"{l} {report[l].Perplexity:0.00}")));
        return new DemoVariant(key, label, report, ParameterCounts.Total(model), ParameterCounts.Active(model),
                               runDir is null ? 0 : trainable, runDir, trainingTime);
    }

    public static string RunDir(string outputDir, string key) => Path.Combine(outputDir, DemoPipeline.RunsFolder, key);

    /// <summary>Tokens (and old-language tokens) a run of <paramref name="steps"/> steps processes, following the
    /// trainer's block order exactly (a short last batch per epoch included).</summary>
    public static (long Tokens, long OldTokens) TokensSeen(PackedCorpus corpus, int steps, int batchSize, long seed)
    {
        int perEpoch = (corpus.Count + batchSize - 1) / batchSize;
        int epoch = 0, microBatch = 0;
        var order = BlockOrder.ForEpoch(seed, epoch, corpus.Count);
        long tokens = 0, old = 0;
        for (int step = 0; step < steps; step++, microBatch++)
        {
            if (microBatch >= perEpoch) { order = BlockOrder.ForEpoch(seed, ++epoch, corpus.Count); microBatch = 0; }
            foreach (int block in order.Skip(microBatch * batchSize).Take(batchSize))
            {
                tokens += corpus.CutoffLen;
                old += corpus.OldLanguage[block].Count(isOld => isOld);
            }
        }
        return (tokens, old);
    }
}
