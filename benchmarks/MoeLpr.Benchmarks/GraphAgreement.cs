using MoeLpr.Devices;
using MoeLpr.Model;
using MoeLpr.Training;
using MoeLpr.Upcycling;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>One stage's training run twice from the same weights: step by step, as run and as replayed.</summary>
/// <param name="EagerLosses">Each step's loss, every kernel issued by the host.</param>
/// <param name="GraphLosses">Each step's loss, forward and backward replayed from a CUDA graph.</param>
/// <param name="MaxAbsWeightDifference">The largest difference of any trainable weight after the last step.</param>
public sealed record GraphStageAgreement(int Stage, double[] EagerLosses, double[] GraphLosses,
    double MaxAbsWeightDifference, double MaxAbsWeight)
{
    public double MaxAbsLossDifference => EagerLosses.Zip(GraphLosses, (a, b) => Math.Abs(a - b)).Max();
}

public sealed record GraphAgreementResult(string DType, int Steps, IReadOnlyList<GraphStageAgreement> Stages);

/// <summary>
/// Training replayed from CUDA graphs against training as issued, before anything is timed: two copies of the
/// upcycled benchmark model (same seeds) train stage 1 then stage 2 on two batches in turn, one copy with graphs and
/// one without. Batches that alternate show that each replay reads its own micro-batch, and the weights after the
/// last step show that the replayed gradients reach the optimizer. Some of CUDA's backward kernels add with atomics,
/// so the two need not agree bit for bit in bfloat16; they must agree to its rounding.
/// </summary>
public static class GraphAgreement
{
    public const int Steps = 6;

    public static GraphAgreementResult Run(BenchmarkModels models, Device device, ScalarType dtype,
        DeviceOptions kernels)
    {
        using var scope = torch.NewDisposeScope();
        using var eager = Upcycled(models, device, dtype, kernels);
        using var graphed = Upcycled(models, device, dtype, kernels);
        TrainingBatch[] batches = [TrainingBatch.Random(models.Model, models.Batch, models.SeqLen, device, seed: 4),
            TrainingBatch.Random(models.Model, models.Batch, models.SeqLen, device, seed: 5)];
        var stages = new[] { 1, 2 }.Select(stage =>
        {
            var eagerLosses = Train(eager, models.Moe, stage, device, cudaGraphs: false, batches);
            var graphLosses = Train(graphed, models.Moe, stage, device, cudaGraphs: true, batches);
            // Without gradient, and freed at once: arithmetic on trainable weights with autograd on would keep their
            // AccumulateGrad nodes alive on the default stream, and the next stage's capture would have to wait for
            // that stream (the likely reason this section ended its process on the H100).
            using var compare = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var trained = eager.named_parameters().Zip(graphed.named_parameters())
                .Where(pair => pair.First.parameter.requires_grad).ToList();
            double Largest(Func<(Tensor Eager, Tensor Graph), Tensor> measure) => trained
                .Select(pair => measure((pair.First.parameter, pair.Second.parameter)).max().ToDouble()).Max();
            return new GraphStageAgreement(stage, eagerLosses, graphLosses,
                Largest(p => (p.Eager.to_type(ScalarType.Float32) - p.Graph.to_type(ScalarType.Float32)).abs()),
                Largest(p => p.Eager.to_type(ScalarType.Float32).abs()));
        }).ToList();
        foreach (var batch in batches) batch.Dispose();
        return new GraphAgreementResult(dtype.ToString(), Steps, stages);
    }

    static LlamaForCausalLM Upcycled(BenchmarkModels models, Device device, ScalarType dtype,
        DeviceOptions kernels)
    {
        torch.manual_seed(BenchmarkModels.ModelSeed);
        var model = new LlamaForCausalLM(models.Model, dtype);
        model.to(device);
        Upcycler.Upcycle(model, models.Moe, BenchmarkModels.UpcycleSeed);
        kernels.ChooseKernels(model);
        return model;
    }

    static double[] Train(LlamaForCausalLM model, MoeConfig moe, int stage, Device device, bool cudaGraphs,
        TrainingBatch[] batches)
    {
        using var step = StageStep.Create(model, moe, stage, device, cudaGraphs);
        var losses = Enumerable.Range(0, Steps).Select(i => (double)step.Run(batches[i % batches.Length])).ToArray();
        model.zero_grad();
        return losses;
    }
}
