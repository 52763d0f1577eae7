using MoeLpr.Devices;
using MoeLpr.Model;
using MoeLpr.Training;
using MoeLpr.Upcycling;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>
/// A small upcycled model ready to train, for the sections that run many steps of one (the leak check, the host
/// overhead): seeded, on the device, with the run's kernels, a random batch and the stage's training step.
/// </summary>
public sealed record SmallTrainingRun(LlamaForCausalLM Model, TrainingBatch Batch, TrainingStep Step) : IDisposable
{
    public static SmallTrainingRun Create(ModelConfig config, MoeConfig moe, int stage, int batch, int seqLen,
        Device device, ScalarType dtype, DeviceOptions kernels, (long Model, long Upcycle, long Batch) seeds)
    {
        torch.manual_seed(seeds.Model);
        var model = new LlamaForCausalLM(config, dtype);
        model.to(device);
        Upcycler.Upcycle(model, moe, seeds.Upcycle);
        kernels.ChooseKernels(model);
        return new SmallTrainingRun(model, TrainingBatch.Random(config, batch, seqLen, device, seeds.Batch),
            StageStep.Create(model, moe, stage, device));
    }

    /// <summary>
    /// Runs <paramref name="measure"/> with one torch thread: tiny ops gain nothing from two, and on a shared machine
    /// an OpenMP barrier waiting for a descheduled second thread makes every op orders of magnitude slower.
    /// </summary>
    public static T OnOneTorchThread<T>(Func<T> measure)
    {
        var threads = torch.get_num_threads();
        torch.set_num_threads(1);
        try { return measure(); }
        finally { torch.set_num_threads(threads); }
    }

    public void Dispose()
    {
        Step.Dispose();
        Batch.Dispose();
        Model.Dispose();
    }
}
