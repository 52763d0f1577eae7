using System.Diagnostics;
using MoeLpr.Data;
using MoeLpr.Model;
using TorchSharp;

namespace MoeLpr.Training;

/// <summary>How a <see cref="Trainer.Train"/> call ended.</summary>
/// <param name="Completed">False when it was cancelled (a checkpoint of the last step was written).</param>
/// <param name="LastMetrics">The last logged metrics line, null if nothing was logged.</param>
public sealed record TrainingResult(int GlobalStep, int PlannedSteps, bool Completed, string OutputDir,
    TrainingMetrics? LastMetrics);

/// <summary>
/// One training loop for every <see cref="TrainingPolicy"/>: the seeded <see cref="BatchPlan"/> over the packed blocks,
/// a <see cref="TrainingStep"/> per optimizer step (gradient accumulation, AdamW over the trainable parameters only,
/// global-norm clipping) at the cosine schedule's learning rate, metrics every logging step, atomic checkpoints every
/// save step, exact resume, and a hard stop (before the update is applied) when a loss or the gradient norm stops
/// being finite.
/// </summary>
public sealed class Trainer
{
    readonly LlamaForCausalLM model;
    readonly TrainingPolicy policy;
    readonly PackedCorpus corpus;
    readonly TrainerOptions options;
    readonly string outputDir;
    readonly TextWriter console;

    public Trainer(LlamaForCausalLM model, TrainingPolicy policy, PackedCorpus corpus, TrainerOptions options,
                   string outputDir, TextWriter? console = null)
    {
        options.Validate();
        if (corpus.Count == 0)
            throw new InvalidDataException(
                $"no training blocks: the datasets hold fewer than cutoff_len = {corpus.CutoffLen} tokens");
        (this.model, this.policy, this.corpus, this.options, this.outputDir) = (model, policy, corpus,
            options, outputDir);
        this.console = console ?? Console.Out;
        Plan = new BatchPlan(corpus.Count, options);
    }

    /// <summary>The order the run visits the blocks in, step by step.</summary>
    public BatchPlan Plan { get; }

    public int PlannedSteps => Plan.PlannedSteps;

    /// <param name="resume">Continue from the latest <c>checkpoint-N</c> in the output folder.</param>
    /// <param name="cancellation">Stops after the current optimizer step, writing a checkpoint of it.</param>
    public TrainingResult Train(bool resume = false, CancellationToken cancellation = default)
    {
        Directory.CreateDirectory(outputDir);
        string metricsPath = Path.Combine(outputDir, MetricsFile.FileName);
        var latest = TrainingCheckpoint.FindLatest(outputDir);
        if (!resume && latest is not null)
            throw new InvalidOperationException(
                $"{outputDir}: already holds {Path.GetFileName(latest)}; add --resume to continue that run, or " +
                "choose a new output folder");
        if (!resume) TrainerState.RequireNoFinishedRun(outputDir);

        using var step = new TrainingStep(model, policy, options);
        var state = new TrainerState
        {
            Policy = policy.Name, PlannedSteps = PlannedSteps, Seed = options.Seed, Blocks = corpus.Count,
            CutoffLen = corpus.CutoffLen, BatchSize = options.BatchSize,
            GradientAccumulationSteps = options.GradientAccumulationSteps, LearningRate = options.LearningRate,
            WarmupSteps = options.WarmupSteps, MaxGradNorm = options.MaxGradNorm, LossSettings = policy.LossSettings,
        };
        if (resume)
        {
            if (latest is null) throw new InvalidDataException($"{outputDir}: no checkpoint-N folder to resume from");
            string statePath = Path.Combine(latest, TrainerState.FileName);
            var saved = TrainerState.Load(statePath);
            state.RequireSameRun(saved, statePath);
            TrainingCheckpoint.Restore(latest, model, policy, step.Optimizer);
            state = saved;
            MetricsFile.TruncateAfter(metricsPath, state.GlobalStep);
            console.WriteLine($"resuming {latest} at step {state.GlobalStep}/{PlannedSteps}");
        }
        else if (File.Exists(metricsPath))
        {
            File.Delete(metricsPath);
        }

        return Loop(state, step, metricsPath, latest, cancellation);
    }

    TrainingResult Loop(TrainerState state, TrainingStep step, string metricsPath, string? lastCheckpoint,
        CancellationToken cancellation)
    {
        int planned = PlannedSteps, perEpoch = Plan.MicroBatchesPerEpoch, resumedAt = state.GlobalStep,
            done = resumedAt;
        var progress = new ProgressReporter(console, planned);
        double elapsedBeforeSession = state.ElapsedSeconds; // time spent before a resume
        var session = Stopwatch.StartNew();
        var window = new LossWindow();
        using var routing = new RoutingWindow(model.Moe?.TopK ?? 1);
        TrainingMetrics? lastMetrics = null;

        foreach (var planStep in Plan.Steps(state.Epoch, state.MicroBatchInEpoch).Take(planned - done))
        {
            int number = done + 1;
            double lr = LearningRateSchedule.Cosine(options.LearningRate, done, planned, options.WarmupSteps);
            StepResult result;
            using (var scope = torch.NewDisposeScope())
            {
                var microBatches = planStep.MicroBatches.Select(blocks =>
                {
                    var (ids, oldMask) = corpus.MakeBatch(blocks);
                    return new MicroBatch(ids, oldMask);
                }).ToList();
                try
                {
                    result = step.Run(microBatches, lr, routing.Add);
                }
                catch (TrainingDivergedException e) { throw Diverged(number, e.Message, lastCheckpoint); }
            }
            done = number;
            foreach (var loss in result.MicroBatches) window.Add(loss);

            double elapsed = elapsedBeforeSession + session.Elapsed.TotalSeconds;
            double epoch = planStep.Epoch + (double)planStep.MicroBatchesDone / perEpoch;
            if (done % options.LoggingSteps == 0 || done == planned)
            {
                lastMetrics = window.ToMetrics(done, epoch, lr, result.GradNorm, elapsed, routing);
                MetricsFile.Append(metricsPath, lastMetrics);
                var perStep = session.Elapsed.TotalSeconds / (done - resumedAt);
                progress.Report(lastMetrics, TimeSpan.FromSeconds(perStep * (planned - done)));
                window = new LossWindow();
                routing.Reset();
            }

            var position = state with
            {
                GlobalStep = done, Epoch = planStep.Epoch, MicroBatchInEpoch = planStep.MicroBatchesDone,
                    ElapsedSeconds = elapsed,
            };
            bool cancelled = cancellation.IsCancellationRequested;
            if ((options.SaveSteps > 0 && done % options.SaveSteps == 0) || (cancelled && done < planned))
            {
                lastCheckpoint = TrainingCheckpoint.PathFor(outputDir, done);
                TrainingCheckpoint.Save(lastCheckpoint, model, policy, step.Optimizer, position);
            }
            if (cancelled && done < planned)
            {
                console.WriteLine($"stopped at step {done}/{planned}; checkpoint {lastCheckpoint}");
                return new TrainingResult(done, planned, Completed: false, outputDir, lastMetrics);
            }
            state = position;
        }

        policy.SaveWeights(model, outputDir);
        (state with { Completed = true }).Save(Path.Combine(outputDir, TrainerState.FileName));
        console.WriteLine($"done: {done} steps of {policy.Name}; its output is in {outputDir}");
        return new TrainingResult(done, planned, Completed: true, outputDir, lastMetrics);
    }

    static TrainingDivergedException Diverged(int step, string what, string? lastCheckpoint) =>
        new($"step {step}: {what}; training stopped before applying this update. " +
            (lastCheckpoint is null ? "No checkpoint had been written yet."
                : $"Last good checkpoint: {lastCheckpoint}"));
}
