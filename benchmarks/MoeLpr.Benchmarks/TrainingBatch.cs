using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Benchmarks;

/// <summary>
/// A synthetic batch: seeded random ids, labels = ids, and the first half of the rows flagged old-language.
/// </summary>
public sealed record TrainingBatch(Tensor InputIds, Tensor Labels, Tensor OldLanguageMask) : IDisposable
{
    public long Tokens => InputIds.numel();

    public CausalLMInput ToInput() => new(InputIds, Labels, OldLanguageMask);

    public static TrainingBatch Random(ModelConfig config, long batch, long seqLen, Device device, long seed)
    {
        using var generator = new Generator((ulong)seed);
        var ids = torch.randint(0, config.VocabSize, [batch, seqLen], dtype: ScalarType.Int64, generator: generator)
            .to(device);
        var old = torch.zeros([batch, seqLen], dtype: ScalarType.Bool, device: device);
        old.narrow(0, 0, Math.Max(1, batch / 2)).fill_(true);
        return new TrainingBatch(ids, ids.clone(), old);
    }

    public void Dispose()
    {
        InputIds.Dispose();
        Labels.Dispose();
        OldLanguageMask.Dispose();
    }
}
