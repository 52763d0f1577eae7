using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MoeLpr.Model;

namespace MoeLpr.Benchmarks;

/// <summary>Everything one run measured; written as JSON and as a Markdown summary.</summary>
public sealed record BenchmarkReport(
    MachineDescription Machine, string Mode, string Attention, string MoeDispatch, ModelConfig Model, MoeConfig Moe,
    int Batch, int SeqLen, DispatchAgreementResult? DispatchAgreement, GraphAgreementResult? GraphAgreement,
    MatmulPeakResult? MatmulPeak, MoeLayerResult? MoeLayer, IReadOnlyList<ThroughputResult> Throughput,
    IReadOnlyList<ProfileResult> Profiles, HostOverheadResult? HostOverhead, LeakResult? Leak,
    HeldMemoryResult? HeldMemory, string FlopFormula)
{
    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public (string Json, string Markdown) Write(string directory, string baseName)
    {
        Directory.CreateDirectory(directory);
        var json = Path.Combine(directory, baseName + ".json");
        var markdown = Path.Combine(directory, baseName + ".md");
        File.WriteAllText(json, JsonSerializer.Serialize(this, Json) + "\n");
        File.WriteAllText(markdown, ToMarkdown());
        return (json, markdown);
    }

    static string F(double v, string format = "0.000") => v.ToString(format, CultureInfo.InvariantCulture);
    static string Mib(long bytes) => F(bytes / 1048576.0, "0");
    static string Ms(TimingStats t) =>
        $"{F(t.MedianSeconds * 1000, "0.0")} ({F(t.MinSeconds * 1000, "0.0")}–{F(t.MaxSeconds * 1000, "0.0")})";

    static string CpuRatio(TimingStats moe, TimingStats dense) =>
        F(moe.CpuMedianSeconds / dense.CpuMedianSeconds, "0.00");

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        var m = Machine;
        md.AppendLine($"# MoeLpr benchmark ({Mode}, {m.Device}, {m.DType})\n");
        md.AppendLine($"- Machine: {m.CpuModel}, {m.LogicalCores} logical cores, " +
                      $"torch threads {m.TorchThreads}; {m.Os}; {m.DotNet}");
        md.AppendLine($"- TorchSharp {m.TorchSharpVersion}, libtorch {m.LibTorchVersion}");
        if (m.CudaNote is not null) md.AppendLine($"- CUDA: {m.CudaNote}");
        md.AppendLine($"- Load average (1/5/15 min) at start: {m.LoadAverageAtStart}; at end: " +
                      $"{m.LoadAverageAtEnd} — timings on a loaded machine are inflated");
        md.AppendLine($"- Started {m.StartedUtc:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine($"- Model: hidden {Model.HiddenSize}, intermediate {Model.IntermediateSize}, " +
                      $"{Model.NumHiddenLayers} layers, {Model.NumAttentionHeads} heads, vocab {Model.VocabSize}; " +
                      $"batch {Batch} × seq {SeqLen} = {Batch * SeqLen} tokens; " +
                      $"attention {Attention}; MoE {Moe.NumExperts} experts top-{Moe.TopK}; " +
                      $"expert dispatch {MoeDispatch}" +
                      (MoeLayer is { } layer ? $" (runs {layer.Dispatch} here)" : ""));
        md.AppendLine("- Times: median (min–max) wall-clock ms over the timed repetitions, after warm-up; CPU = " +
                      "median process CPU time (all threads), less sensitive than wall time to other " +
                      "processes on a shared machine\n");

        if (DispatchAgreement is { } agreement)
        {
            md.AppendLine($"## Grouped experts against the per-expert loop ({agreement.DType}, {agreement.Tokens} " +
                          $"tokens, top-{agreement.TopK} of {agreement.NumExperts} distinct experts; the largest " +
                          $"difference over {agreement.GroupedPasses} grouped passes)\n");
            md.AppendLine("| stage | tensor | max \\|grouped − loop\\| | max \\|loop\\| | relative |");
            md.AppendLine("|---|---|---:|---:|---:|");
            foreach (var t in agreement.Tensors)
                md.AppendLine($"| {t.Stage} | {t.Tensor} | {t.MaxAbsDifference:0.0e+00} | {t.MaxAbsLoop:0.0e+00} | " +
                              $"{t.Relative:0.0e+00} |");
            md.AppendLine();
        }

        if (GraphAgreement is { } graphs)
        {
            md.AppendLine($"## Training replayed from CUDA graphs against training as issued ({graphs.DType}, " +
                          $"{graphs.Steps} steps from the same weights, two batches in turn)\n");
            md.AppendLine("| stage | losses as issued | losses replayed | max \\|loss diff\\| | " +
                          "max \\|weight diff\\| | max \\|weight\\| |");
            md.AppendLine("|---|---|---|---:|---:|---:|");
            string Losses(double[] losses) => string.Join(" ", losses.Select(l => F(l, "0.000000")));
            foreach (var s in graphs.Stages)
                md.AppendLine($"| {s.Stage} | {Losses(s.EagerLosses)} | {Losses(s.GraphLosses)} | " +
                              $"{s.MaxAbsLossDifference:0.0e+00} | {s.MaxAbsWeightDifference:0.0e+00} | " +
                              $"{s.MaxAbsWeight:0.0e+00} |");
            md.AppendLine();
        }

        if (MatmulPeak is { } p)
            md.AppendLine($"**Matmul peak** ({p.Size}×{p.Size} {p.DType}): {F(p.FlopsPerSecond / 1e9, "0.0")} " +
                          $"GFLOP/s (median of {p.Timing.SamplesSeconds.Length}; wall " +
                          $"{F(p.Timing.MedianSeconds * 1000, "0")} ms, " +
                          $"CPU {F(p.Timing.CpuMedianSeconds * 1000, "0")} ms for {p.MatmulsPerSample} matmuls)\n");

        if (MoeLayer is { } l)
        {
            md.AppendLine($"## MoE layer vs dense MLP ({l.Tokens} tokens, hidden {l.Hidden}, " +
                          $"intermediate {l.Intermediate}, top-{l.TopK} of {l.NumExperts})\n");
            md.AppendLine($"Tokens per expert: {string.Join(", ", l.TokensPerExpert)}\n");
            md.AppendLine("Dense and MoE samples alternate; MoE / dense is the median of the per-pair wall-time " +
                          "ratios; CPU = median process CPU time (both threads).\n");
            md.AppendLine("| pass | dense MLP ms | MoE ms | MoE / dense | CPU-time ratio |");
            md.AppendLine("|---|---:|---:|---:|---:|");
            md.AppendLine($"| forward (no_grad) | {Ms(l.DenseForward)} | {Ms(l.MoeForward)} | " +
                          $"**{F(l.ForwardRatio, "0.00")}** | {CpuRatio(l.MoeForward, l.DenseForward)} |");
            md.AppendLine($"| forward+backward, all trainable | {Ms(l.DenseForwardBackward)} | " +
                          $"{Ms(l.MoeForwardBackward)} | **{F(l.ForwardBackwardRatio, "0.00")}** | " +
                          $"{CpuRatio(l.MoeForwardBackward, l.DenseForwardBackward)} |");
            md.AppendLine($"| forward+backward, stage 1 (expert 0 frozen) vs frozen dense | " +
                          $"{Ms(l.DenseFrozenForwardBackward)} | {Ms(l.MoeStage1ForwardBackward)} | " +
                          $"{F(l.Stage1Ratio, "0.00")} | " +
                          $"{CpuRatio(l.MoeStage1ForwardBackward, l.DenseFrozenForwardBackward)} |");
            md.AppendLine($"| forward+backward, stage 2 (router only) vs frozen dense | " +
                          $"{Ms(l.DenseFrozenForwardBackward)} | {Ms(l.MoeStage2ForwardBackward)} | " +
                          $"{F(l.Stage2Ratio, "0.00")} | " +
                          $"{CpuRatio(l.MoeStage2ForwardBackward, l.DenseFrozenForwardBackward)} |");
            md.AppendLine($"\nDense MLP forward: {F(l.DenseForwardFlopsPerSecond / 1e9, "0.0")} GFLOP/s\n");
        }

        if (Throughput.Count > 0)
        {
            md.AppendLine("## Whole model\n");
            md.AppendLine("| workload | ms / batch | CPU ms / batch | tokens/s | GFLOP/batch (model) | achieved " +
                          "GFLOP/s | of matmul peak (model / executed FLOPs) | peak RSS MiB | " +
                          "frozen params with grad |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in Throughput)
                md.AppendLine($"| {r.Workload} | {Ms(r.Timing)} | {F(r.Timing.CpuMedianSeconds * 1000, "0")} | " +
                              $"{F(r.TokensPerSecond, "0")} | {F(r.FlopsPerBatch / 1e9, "0.0")} | " +
                              $"{F(r.AchievedFlopsPerSecond / 1e9, "0.0")} | " +
                              $"{F(100 * r.FractionOfMatmulPeak, "0.0")} % / " +
                              $"{F(100 * r.ExecutedFractionOfMatmulPeak, "0.0")} % | " +
                              $"{Mib(r.PeakRssBytes)}{(r.PeakRssIsPhaseLocal ? "" : " (process peak)")} | " +
                              $"{(r.FrozenParametersWithGradient?.ToString() ?? "–")} |");
            md.AppendLine();
        }

        foreach (var prof in Profiles)
        {
            md.AppendLine($"## Where a stage-{prof.Stage} training step goes (step median " +
                          $"{F(prof.Step.MedianSeconds * 1000, "0.0")} ms wall, " +
                          $"{F(prof.Step.CpuMedianSeconds * 1000, "0.0")} ms CPU)\n");
            md.AppendLine("| component | instances | wall ms | share of step (wall) | CPU ms | share of step (CPU) |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|");
            foreach (var c in prof.Components)
                md.AppendLine($"| {c.Component} | {c.Instances} | {F(c.Seconds * 1000, "0.0")} | " +
                              $"{F(100 * c.ShareOfStep, "0.0")} % | {F(c.CpuSeconds * 1000, "0.0")} | " +
                              $"{F(100 * c.CpuShareOfStep, "0.0")} % |");
            md.AppendLine($"| unaccounted (residual adds, rotary tables, autograd and dispatch overhead, isolation " +
                          $"error) | | {F(prof.UnaccountedSeconds * 1000, "0.0")} | " +
                          $"{F(100 * prof.UnaccountedSeconds / prof.Step.MedianSeconds, "0.0")} % | " +
                          $"{F(prof.UnaccountedCpuSeconds * 1000, "0.0")} | " +
                          $"{F(100 * prof.UnaccountedCpuSeconds / prof.Step.CpuMedianSeconds, "0.0")} % |");
            md.AppendLine();
        }

        if (HostOverhead is { } host)
        {
            md.AppendLine($"## Host time per training step ({host.Config}; attention {host.Attention}, experts run " +
                          $"{host.Dispatch}; one torch thread)\n");
            md.AppendLine("A model so small that its kernels cost next to nothing: the time is that of issuing the " +
                          "step's operations, which paces a GPU step at the benchmark size. Per step, from samples " +
                          $"of {host.StepsPerSample} steps.\n");
            md.AppendLine("| stage | µs per step | min–max | CPU µs |");
            md.AppendLine("|---|---:|---|---:|");
            foreach (var s in host.Stages)
                md.AppendLine($"| {s.Stage} | **{F(s.MedianMicroseconds, "0")}** | {F(s.MinMicroseconds, "0")}–" +
                              $"{F(s.MaxMicroseconds, "0")} | {F(s.CpuMedianMicroseconds, "0")} |");
            md.AppendLine();
        }

        if (Leak is { } k)
        {
            md.AppendLine($"## Leak check (stage-1 steps, {k.Config}; {F(k.Seconds, "0.0")} s)\n");
            md.AppendLine("| after step | RSS MiB | live tensors (thread) | created in scope | disposed in scope | " +
                          "created outside scope |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|");
            foreach (var s in k.Samples)
                md.AppendLine($"| {s.Step} | {F(s.RssBytes / 1048576.0, "0.0")} | {s.LiveTensorsOnThread} | " +
                              $"{s.CreatedInScope} | {s.DisposedInScope} | {s.CreatedOutsideScope} |");
            md.AppendLine($"\nRSS growth from step {k.Samples[0].Step} to {k.Samples[^1].Step}: " +
                          $"{F(k.RssGrowthBytes / 1048576.0, "0.0")} MiB; live-tensor growth: {k.LiveTensorGrowth}\n");
        }

        if (HeldMemory is { } held)
        {
            md.AppendLine($"## Memory one forward holds until its backward ({held.Tokens} tokens, one MoE block, " +
                          $"experts run {held.Dispatch})\n");
            md.AppendLine("RSS with the graph alive minus RSS before, median of the timed samples (the first sample " +
                          "is a warm-up). The experts' weights: " +
                          $"{F(held.ExpertWeightBytes / 1048576.0, "0.0")} MiB; a copy of them kept for the backward " +
                          "pass shows as that much more.\n");
            md.AppendLine("| stage | held MiB | samples MiB |");
            md.AppendLine("|---|---:|---|");
            foreach (var stage in held.Stages)
                md.AppendLine($"| {stage.Stage} | **{F(stage.HeldBytes / 1048576.0, "0.0")}** | " +
                              $"{string.Join(", ", stage.SampleBytes.Select(b => F(b / 1048576.0, "0.0")))} |");
            md.AppendLine();
        }

        md.AppendLine("## FLOP formula\n");
        md.AppendLine(FlopFormula);
        return md.ToString();
    }
}
