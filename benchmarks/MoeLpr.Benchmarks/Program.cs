using System.Globalization;
using MoeLpr.Benchmarks;
using MoeLpr.Devices;
using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

// Throughput and memory benchmark of the dense tiny LLaMA and its upcycled MoE (see benchmarks/README.md).
BenchmarkOptions options;
try { options = BenchmarkOptions.Parse(args); }
catch (ArgumentException e) { Console.Error.WriteLine($"error: {e.Message}"); return 1; }

if (LibTorchStartup.Start(options.LibTorch, options.Device, args, Console.Error) is { } exitCode) return exitCode;
string? cudaNote = torch.cuda.is_available() ? null : $"not available: {Doctor.WhyNoCuda()}";
if (cudaNote is not null) Console.WriteLine($"CUDA {cudaNote}");
Device device;
try { device = DeviceSelector.Resolve(options.Device); }
catch (ArgumentException e) { Console.Error.WriteLine($"error: {e.Message}"); return 1; }
if (options.CudaGraphs && device.type != DeviceType.CUDA)
{
    Console.Error.WriteLine($"error: --cuda-graphs needs a CUDA device (this run is on {device})");
    return 1;
}
var dtype = device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32;   // bf16 on GPUs, fp32 on CPUs
if (device.type == DeviceType.CPU) DeviceSelector.SetThreads(options.Threads ?? Environment.ProcessorCount);

var models = BenchmarkModels.For(options.Size);
// A CPU step takes seconds: 3 timed after 1 untimed. A GPU step takes milliseconds and varies more from call to call
// (a single H100 run's three stage-1 steps spread from 22.6 to 90.0 ms): 20 timed after 3 untimed.
var (warmup, repetitions) = device.type == DeviceType.CUDA ? (3, 20) : (1, 3);
var kernels = new DeviceOptions { Attention = options.Attention, MoeDispatch = options.Dispatch };
string attention = LlamaAttention.Resolve(options.Attention, device.type).ToString().ToLowerInvariant();
var machine = MachineDescription.Capture(device.ToString(), dtype.ToString(), cudaNote);
Console.WriteLine($"{machine.CpuModel}, {machine.LogicalCores} cores, torch threads {machine.TorchThreads}, " +
                  $"TorchSharp {machine.TorchSharpVersion}, libtorch {machine.LibTorchVersion}; " +
                  $"load {machine.LoadAverageAtStart}");
void Log(string line) => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {line}");
string G(double flops) => (flops / 1e9).ToString("0.0", CultureInfo.InvariantCulture);

DispatchAgreementResult? agreement = null;
GraphAgreementResult? graphAgreement = null;
MatmulPeakResult? peak = null;
MoeLayerResult? layer = null;
var throughput = new List<ThroughputResult>();
var profiles = new List<ProfileResult>();
HostOverheadResult? hostOverhead = null;
LeakResult? leak = null;
HeldMemoryResult? heldMemory = null;
if (options.Runs("dispatch-agreement"))
{
    agreement = DispatchAgreement.Run(models.Model, models.Moe, models.Batch, models.SeqLen, device, dtype);
    Log($"grouped experts ({agreement.GroupedPasses} passes) against the loop ({agreement.DType}): " +
        string.Join(", ", agreement.Tensors.Select(
            t => $"{t.Stage} {t.Tensor} max |diff| {t.MaxAbsDifference:0.0e+00} ({t.Relative:0.0e+00} of max " +
                 "|loop|)")));
    Save();
}

if (options.Runs(BenchmarkOptions.GraphAgreementSection) && device.type == DeviceType.CUDA)
{
    graphAgreement = GraphAgreement.Run(models, device, dtype, kernels);
    Log($"CUDA graphs against issued kernels ({graphAgreement.DType}, {graphAgreement.Steps} steps): " +
        string.Join("; ", graphAgreement.Stages.Select(s =>
            $"stage {s.Stage} losses {string.Join(" ", s.EagerLosses.Select(l => l.ToString("0.000000")))} against " +
            $"{string.Join(" ", s.GraphLosses.Select(l => l.ToString("0.000000")))}, max |diff| " +
            $"{s.MaxAbsLossDifference:0.0e+00}; weights max |diff| {s.MaxAbsWeightDifference:0.0e+00} " +
            $"(max |w| {s.MaxAbsWeight:0.0e+00})")));
    Save();
}
else if (options.Runs(BenchmarkOptions.GraphAgreementSection))
    Log("graph agreement: not run (CUDA graphs need a CUDA device)");

if (options.Runs("matmul") || options.Runs("throughput"))
{
    int size = device.type == DeviceType.CUDA ? 8192 : 2048;
    peak = MatmulPeakResult.Measure(device, dtype, size, matmulsPerSample: device.type == DeviceType.CUDA ? 20 : 3,
        warmup: 2, repetitions);
    Log($"matmul peak {size}×{size} {dtype}: {G(peak.FlopsPerSecond)} GFLOP/s");
    Save();
}

if (options.Runs("moe-layer"))
{
    // Single layers take about a second: 7 interleaved pairs per pass steady the ratios on a noisy machine.
    layer = MoeLayerBenchmark.Run(models.Model, models.Moe, models.Batch, models.SeqLen, device, dtype,
        options.Dispatch, warmup, repetitions: 7);
    Log($"MoE layer / dense MLP: forward {layer.ForwardRatio:0.00}× ({layer.MoeForward.MedianSeconds * 1000:0.0} vs " +
        $"{layer.DenseForward.MedianSeconds * 1000:0.0} ms), " +
        $"forward+backward {layer.ForwardBackwardRatio:0.00}× ({layer.MoeForwardBackward.MedianSeconds * 1000:0.0} " +
        $"vs {layer.DenseForwardBackward.MedianSeconds * 1000:0.0} ms); " +
        $"tokens per expert {string.Join(",", layer.TokensPerExpert)}; experts run {layer.Dispatch}");
    Save();
}

if (options.Runs("throughput") || options.Runs("profile"))
{
    torch.manual_seed(BenchmarkModels.ModelSeed);
    using var model = new LlamaForCausalLM(models.Model, dtype);
    model.to(device);
    kernels.ChooseKernels(model);
    using var batch = TrainingBatch.Random(models.Model, models.Batch, models.SeqLen, device, seed: 4);
    if (options.Runs("throughput"))
        ThroughputBenchmark.Run(model, models.Moe, kernels, batch, device, peak!.FlopsPerSecond, warmup,
            repetitions, options.CudaGraphs, r =>
        {
            throughput.Add(r);
            Log($"{r.Workload}: {r.Timing.MedianSeconds * 1000:0.0} ms, {r.TokensPerSecond:0} tokens/s, " +
                $"{G(r.AchievedFlopsPerSecond)} GFLOP/s = {100 * r.FractionOfMatmulPeak:0.0}% of matmul peak " +
                $"(executed {100 * r.ExecutedFractionOfMatmulPeak:0.0}%), peak RSS {r.PeakRssBytes >> 20} MiB");
            Save();
        });
    else
    {
        MoeLpr.Upcycling.Upcycler.Upcycle(model, models.Moe, BenchmarkModels.UpcycleSeed);
        kernels.ChooseKernels(model);
    }
    if (options.Runs("profile"))
        foreach (var stage in new[] { 1, 2 })
        {
            var measured = throughput.FirstOrDefault(r => r.Workload == $"stage {stage} train")?.Timing;
            var profile = ComponentProfile.Run(model, models.Moe, batch, stage, device, warmup, repetitions, measured);
            profiles.Add(profile);
            Log($"stage {stage} profile: step {profile.Step.MedianSeconds * 1000:0.0} ms; " +
                string.Join("; ", profile.Components.Select(c => $"{c.Component} {c.Seconds * 1000:0.0} ms")) +
                $"; unaccounted {profile.UnaccountedSeconds * 1000:0.0} ms");
            Save();
        }
}

if (options.Runs("host-overhead"))
{
    hostOverhead = HostOverhead.Run(models.Moe, device, dtype, kernels, repetitions: 3);   // each sample is 300 steps
    Save();
    Log($"host overhead ({hostOverhead.Config}; attention {hostOverhead.Attention}, experts run " +
        $"{hostOverhead.Dispatch}): " + string.Join(", ", hostOverhead.Stages.Select(
            s => $"stage {s.Stage} {s.MedianMicroseconds:0} µs per step")));
}

if (options.Runs("leak"))
{
    leak = LeakCheck.Run(models.LeakModel, models.Moe, models.LeakBatch, models.LeakSeqLen,
        models.LeakSteps, device, dtype, kernels);
    Save();
    var samples = leak.Samples.Select(
        s => $"step {s.Step}: RSS {s.RssBytes / 1048576.0:0.0} MiB, live {s.LiveTensorsOnThread}");
    Log($"leak check: {string.Join("; ", samples)} ({leak.Seconds:0.0} s)");
}

// Alone in its process (BenchmarkOptions): it makes glibc map every large allocation on its own from here on.
if (options.Runs("held-memory") && device.type == DeviceType.CPU)
{
    heldMemory = HeldMemory.Measure(models.Model, models.Moe, tokens: 512, options.Dispatch);
    Save();
    Log($"held memory ({heldMemory.Dispatch}; the experts' weights are " +
        $"{heldMemory.ExpertWeightBytes / 1048576.0:0.0} MiB): a forward holds " +
        string.Join(", ", heldMemory.Stages.Select(s => $"{s.HeldBytes / 1048576.0:0.0} MiB in stage {s.Stage}")) +
        " until its backward");
}
else if (options.Runs("held-memory"))
    Log("held memory: not measured on CUDA (TorchSharp 0.107 reports no CUDA allocator statistics)");

Save();
Log($"wrote {Path.Combine(options.OutputDirectory, ReportName())}.json and .md");
return 0;

string ReportName() =>
    $"benchmark-{(device.type == DeviceType.CUDA ? "cuda" : "cpu")}" +
    $"{(options.Size == "full" ? "" : "-" + options.Size)}{(options.Tag.Length > 0 ? "-" + options.Tag : "")}";

// Written after every section, so a long run on a busy machine keeps what it has measured so far.
void Save() => new BenchmarkReport(machine with { LoadAverageAtEnd = MachineDescription.LoadAverage() },
        options.Size, attention, options.Dispatch.ToString().ToLowerInvariant(), models.Model, models.Moe, models.Batch,
        models.SeqLen, agreement, graphAgreement, peak, layer, throughput, profiles, hostOverhead, leak, heldMemory,
        FlopCounts.Formula)
    .Write(options.OutputDirectory, ReportName());
