using System.Diagnostics;
using MoeLpr.Data;
using MoeLpr.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Training;

/// <summary>
/// One training loop for every <see cref="TrainingPolicy"/>: seeded shuffling of packed blocks per epoch, micro-batches
/// with gradient accumulation, AdamW over the trainable parameters only, global-norm clipping, the cosine schedule
/// over the whole planned step count, metrics every logging step, atomic checkpoints every save step, exact resume,
/// and a hard stop (before the update is applied) when a loss term or the gradient norm stops being finite.
/// </summary>
public sealed class Trainer
{
    readonly LlamaForCausalLM model;
    readonly TrainingPolicy policy;
    readonly PackedCorpus corpus;
    readonly TrainerOptions options;
    readonly string outputDir;
    readonly TextWriter console;

    public Trainer(LlamaForCausalLM model, TrainingPolicy policy, PackedCorpus corpus, TrainerOptions options, string outputDir, TextWriter? console = null)
    {
        options.Validate();
        if (corpus.Count == 0)
            throw new InvalidDataException($"no training blocks: the datasets hold fewer than cutoff_len = {corpus.CutoffLen} tokens");
        this.model = model;
        this.policy = policy;
        this.corpus = corpus;
        this.options = options;
        this.outputDir = outputDir;
        this.console = console ?? Console.Out;
    }

    public int MicroBatchesPerEpoch => (corpus.Count + options.BatchSize - 1) / options.BatchSize;

    /// <summary>Optimizer steps per epoch; the last one may accumulate fewer micro-batches.</summary>
    public int StepsPerEpoch => (MicroBatchesPerEpoch + options.GradientAccumulationSteps - 1) / options.GradientAccumulationSteps;

    /// <summary>The whole run's optimizer steps: <c>MaxSteps</c> when set, else epochs × steps per epoch.</summary>
    public int PlannedSteps => options.MaxSteps ?? options.Epochs * StepsPerEpoch;

    /// <param name="resume">Continue from the latest <c>checkpoint-N</c> in the output folder.</param>
    /// <param name="cancellation">Stops after the current optimizer step, writing a checkpoint of it.</param>
    public TrainingResult Train(bool resume = false, CancellationToken cancellation = default)
    {
        Directory.CreateDirectory(outputDir);
        string metricsPath = Path.Combine(outputDir, MetricsFile.FileName);
        var latest = TrainingCheckpoint.FindLatest(outputDir);
        if (!resume && latest is not null)
            throw new InvalidOperationException($"{outputDir}: already holds {Path.GetFileName(latest)}; resume it or choose a new output folder");

        policy.Prepare(model);
        var device = options.Device ?? torch.CPU;
        model.to(device);
        if (model.SetTrainable(policy.IsTrainable) == 0)
            throw new InvalidOperationException($"policy '{policy.Name}' selects no trainable parameter in this model");
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        using var optimizer = torch.optim.AdamW(trainable, lr: options.LearningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0);

        var state = new TrainerState
        {
            Policy = policy.Name, PlannedSteps = PlannedSteps, Seed = options.Seed, Blocks = corpus.Count,
            CutoffLen = corpus.CutoffLen, BatchSize = options.BatchSize, GradientAccumulationSteps = options.GradientAccumulationSteps,
            LearningRate = options.LearningRate, WarmupSteps = options.WarmupSteps,
        };
        if (resume)
        {
            if (latest is null) throw new InvalidDataException($"{outputDir}: no checkpoint-N folder to resume from");
            string statePath = Path.Combine(latest, TrainerState.FileName);
            var saved = TrainerState.Load(statePath);
            state.RequireSameRun(saved, statePath);
            TrainingCheckpoint.Restore(latest, model, policy, optimizer);
            state = saved;
            MetricsFile.TruncateAfter(metricsPath, state.GlobalStep);
            console.WriteLine($"resuming {latest} at step {state.GlobalStep}/{PlannedSteps}");
        }
        else if (File.Exists(metricsPath))
        {
            File.Delete(metricsPath);
        }

        return Loop(state, optimizer, trainable, device, metricsPath, latest, cancellation);
    }

    TrainingResult Loop(TrainerState state, OptimizerHelper optimizer, IReadOnlyList<Parameter> trainable, Device device,
                        string metricsPath, string? lastCheckpoint, CancellationToken cancellation)
    {
        int planned = PlannedSteps, perEpoch = MicroBatchesPerEpoch;
        int step = state.GlobalStep, epoch = state.Epoch, microBatch = state.MicroBatchInEpoch;
        int topK = model.MoeBlocks.FirstOrDefault()?.TopK ?? 1;
        var order = BlockOrder.ForEpoch(options.Seed, epoch, corpus.Count);
        var progress = new ProgressReporter(console, planned);
        var session = Stopwatch.StartNew();
        var window = new LossWindow();
        var routing = new RoutingStatistics();
        int sessionSteps = 0;
        TrainingMetrics? lastMetrics = null;

        model.train();
        while (step < planned)
        {
            if (microBatch >= perEpoch)
            {
                epoch++;
                microBatch = 0;
                order = BlockOrder.ForEpoch(options.Seed, epoch, corpus.Count);
            }
            int inUpdate = Math.Min(options.GradientAccumulationSteps, perEpoch - microBatch);
            for (int m = 0; m < inUpdate; m++, microBatch++)
            {
                var blocks = order.Skip(microBatch * options.BatchSize).Take(options.BatchSize).ToArray();
                MicroStep(blocks, inUpdate, step + 1, device, topK, window, routing, lastCheckpoint);
            }

            double lr = LearningRateSchedule.Cosine(options.LearningRate, step, planned, options.WarmupSteps);
            double gradNorm = Update(optimizer, trainable, lr, step + 1, lastCheckpoint);
            step++;
            sessionSteps++;

            double elapsed = state.ElapsedSeconds + session.Elapsed.TotalSeconds;
            if (step % options.LoggingSteps == 0 || step == planned)
            {
                lastMetrics = window.ToMetrics(step, epoch + (double)microBatch / perEpoch, lr, gradNorm, elapsed, routing);
                MetricsFile.Append(metricsPath, lastMetrics);
                progress.Report(lastMetrics, TimeSpan.FromSeconds(session.Elapsed.TotalSeconds / sessionSteps * (planned - step)));
                window = new LossWindow();
                routing = new RoutingStatistics();
            }

            state = state with { GlobalStep = step, Epoch = epoch, MicroBatchInEpoch = microBatch, ElapsedSeconds = elapsed };
            bool cancelled = cancellation.IsCancellationRequested;
            if ((options.SaveSteps > 0 && step % options.SaveSteps == 0) || (cancelled && step < planned))
            {
                lastCheckpoint = TrainingCheckpoint.PathFor(outputDir, step);
                TrainingCheckpoint.Save(lastCheckpoint, model, policy, optimizer, state);
            }
            if (cancelled && step < planned)
            {
                console.WriteLine($"stopped at step {step}/{planned}; checkpoint {lastCheckpoint}");
                return new TrainingResult(step, planned, Completed: false, outputDir, lastMetrics);
            }
        }

        policy.SaveWeights(model, outputDir);
        (state with { Completed = true }).Save(Path.Combine(outputDir, TrainerState.FileName));
        console.WriteLine($"done: {step} steps, {policy.Name} weights in {outputDir}");
        return new TrainingResult(step, planned, Completed: true, outputDir, lastMetrics);
    }

    /// <summary>Clips, applies the scheduled learning rate and steps; its own scope frees the grad wrappers that
    /// clipping, the AdamW step and zero_grad create.</summary>
    double Update(OptimizerHelper optimizer, IReadOnlyList<Parameter> trainable, double lr, int step, string? lastCheckpoint)
    {
        using var scope = torch.NewDisposeScope();
        double gradNorm = torch.nn.utils.clip_grad_norm_(trainable, options.MaxGradNorm > 0 ? options.MaxGradNorm : double.PositiveInfinity);
        if (!double.IsFinite(gradNorm))
            throw Diverged(step, $"the gradient norm is {gradNorm}", lastCheckpoint);
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
        optimizer.step();
        optimizer.zero_grad();
        return gradNorm;
    }

    void MicroStep(int[] blocks, int microBatchesInUpdate, int step, Device device, int topK,
                   LossWindow window, RoutingStatistics routing, string? lastCheckpoint)
    {
        using var scope = torch.NewDisposeScope();
        var (cpuIds, cpuMask) = corpus.MakeBatch(blocks);
        var ids = cpuIds.to(device);
        var oldMask = cpuMask.to(device);
        var labels = LanguageModelingLabels.From(ids, options.MaskedLabelTokenId);
        var output = model.forward(new CausalLMInput(ids, labels, oldMask));
        var terms = policy.ComputeLoss(output, oldMask);

        double total = terms.Total.item<float>();
        double lm = terms.LmLoss.item<float>();
        double? aux = terms.AuxLoss?.item<float>();
        double? lpr = terms.LprLoss?.item<float>();
        if (!double.IsFinite(total))
        {
            string culprit = !double.IsFinite(lm) ? $"lm_loss is {lm}"
                : aux is double a && !double.IsFinite(a) ? $"aux_loss is {a}"
                : lpr is double p && !double.IsFinite(p) ? $"lpr_loss is {p}"
                : $"the total loss is {total}";
            throw Diverged(step, culprit, lastCheckpoint);
        }

        (terms.Total / microBatchesInUpdate).backward();
        window.Add(total, lm, aux, lpr, ids.numel());
        routing.Add(output.RouterLogits, oldMask, topK);
    }

    static TrainingDivergedException Diverged(int step, string what, string? lastCheckpoint) =>
        new($"step {step}: {what}; training stopped before applying this update. " +
            (lastCheckpoint is null ? "No checkpoint had been written yet." : $"Last good checkpoint: {lastCheckpoint}"));
}
