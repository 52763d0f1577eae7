using MoeLpr.Model;
using MoeLpr.Training.Losses;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>
/// Wall and process-CPU seconds of one component (summed over its instances) and its share of the step.
/// </summary>
public sealed record ComponentTime(string Component, int Instances, double Seconds, double ShareOfStep,
    double CpuSeconds, double CpuShareOfStep);

/// <summary>
/// Where one training step's time goes, measured per component; "unaccounted" = step − Σ components.
/// </summary>
public sealed record ProfileResult(int Stage, TimingStats Step, IReadOnlyList<ComponentTime> Components,
                                   double SumOfComponentsSeconds, double UnaccountedSeconds,
                                   double SumOfComponentsCpuSeconds, double UnaccountedCpuSeconds);

/// <summary>
/// Times each component of a training step in isolation, on the model's own modules and the step's shapes, with the
/// step's gradient requirements: the first layer's input needs no gradient (nothing below it trains), every later
/// layer's input does; forward + backward (with a ones upstream gradient) whenever the output needs a gradient,
/// forward only otherwise. Medians of each instance are summed per component.
/// </summary>
public static class ComponentProfile
{
    /// <param name="measuredStep">The whole step's timing when the throughput section already measured it (saves
    /// minutes).</param>
    public static ProfileResult Run(LlamaForCausalLM model, MoeConfig moe, TrainingBatch batch, int stage,
                                    Device device, int warmup, int repetitions, TimingStats? measuredStep)
    {
        var config = model.Config;
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        long b = batch.InputIds.shape[0], t = batch.InputIds.shape[1], h = config.HiddenSize, tokens = b * t;
        var dtype = model.DType;

        using var step = StageStep.Create(model, moe, stage, device);
        var stepTiming = measuredStep ?? Stopwatches.Measure(device, warmup, repetitions, () => step.Run(batch));

        using var scope = torch.NewDisposeScope();
        using var generator = new Generator(5);
        var hidden = torch.randn([b, t, h], dtype: ScalarType.Float32, generator: generator).to(dtype, device);
        var (cos, signedSin) = new RotaryEmbedding(config.HeadDim, config.RopeTheta).Compute(t, device, dtype);
        var routerLogits = Enumerable.Range(0, config.NumHiddenLayers)
            .Select(_ => torch.randn([tokens, moe.NumExperts], dtype: ScalarType.Float32, generator: generator)
                .to(device)).ToList();

        (double Wall, double Cpu) Time(Func<Tensor> forward)
        {
            var timing = Stopwatches.Measure(device, warmup, repetitions, () =>
            {
                using var s = torch.NewDisposeScope();
                var y = forward();
                if (y.requires_grad) torch.autograd.backward([y], [torch.ones_like(y)]);
                model.zero_grad();
            });
            return (timing.MedianSeconds, timing.CpuMedianSeconds);
        }
        Tensor Input(bool needsGrad) => hidden.detach().requires_grad_(needsGrad);
        T Module<T>(string name) where T : class =>
            modules[name] as T ?? throw new InvalidOperationException($"no module {name}");

        var components = new List<(string Name, int Instances, (double Wall, double Cpu) Time)>();
        var embed = Module<Embedding>("model.embed_tokens");
        components.Add(("embedding", 1, Time(() => embed.forward(batch.InputIds))));

        (double Wall, double Cpu) attention = (0, 0), norms = (0, 0), mlp = (0, 0);
        static (double, double) Plus((double Wall, double Cpu) a, (double Wall, double Cpu) b) =>
            (a.Wall + b.Wall, a.Cpu + b.Cpu);
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            var prefix = $"model.layers.{i}.";
            bool inputGrad = i > 0;
            var attn = Module<nn.Module<LayerInput, Tensor>>(prefix + "self_attn");
            attention = Plus(attention, Time(() => attn.forward(new LayerInput(Input(inputGrad), cos, signedSin))));
            foreach (var norm in new[] { "input_layernorm", "post_attention_layernorm" })
            {
                var module = Module<RMSNorm>(prefix + norm);
                norms = Plus(norms, Time(() => module.forward(Input(inputGrad))));
            }
            var block = Module<MoeBlock>(prefix + "mlp");
            mlp = Plus(mlp, Time(() => block.forward(Input(inputGrad)).HiddenStates));
        }
        var finalNorm = Module<RMSNorm>("model.norm");
        norms = Plus(norms, Time(() => finalNorm.forward(Input(true))));
        components.Add(("attention", config.NumHiddenLayers, attention));
        components.Add(("rmsnorm", 2 * config.NumHiddenLayers + 1, norms));
        components.Add(("moe mlp", config.NumHiddenLayers, mlp));

        var head = Module<Linear>("lm_head");
        components.Add(("lm_head + LM loss", 1, Time(() =>
        {
            var logits = head.forward(Input(true)).to_type(ScalarType.Float32);
            return nn.functional.cross_entropy(logits.narrow(1, 0, t - 1).reshape(-1, config.VocabSize),
                                               batch.Labels.narrow(1, 1, t - 1).reshape(-1));
        })));
        components.Add((stage == 1 ? "aux loss" : "LPR loss", 1, Time(() =>
        {
            var leaves = routerLogits.Select(r => r.detach().requires_grad_(true)).ToList();
            return stage == 1
                ? LoadBalancingLoss.Compute(leaves, moe.NumExperts, moe.TopK)
                : LprLoss.Compute(leaves, batch.OldLanguageMask, LprLossForm.Nll);
        })));

        step.Run(batch);   // allocates the gradients and the AdamW state, as in a running training loop
        var optimizer = Stopwatches.Measure(device, warmup, repetitions, () => step.Update(StageStep.LearningRate));
        components.Add(
            ("optimizer (clip + AdamW step + zero_grad)", 1, (optimizer.MedianSeconds, optimizer.CpuMedianSeconds)));

        double stepWall = stepTiming.MedianSeconds, stepCpu = stepTiming.CpuMedianSeconds;
        var list = components.Select(c => new ComponentTime(c.Name, c.Instances, c.Time.Wall, c.Time.Wall / stepWall,
                                                             c.Time.Cpu, c.Time.Cpu / stepCpu)).ToList();
        double sum = list.Sum(c => c.Seconds), cpuSum = list.Sum(c => c.CpuSeconds);
        return new ProfileResult(stage, stepTiming, list, sum, stepWall - sum, cpuSum, stepCpu - cpuSum);
    }
}
