using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Model;

#pragma warning disable IDE1006 // field names are the PEFT state-dict keys

/// <summary>
/// A LoRA adapter around a frozen linear layer (PEFT <c>lora.Linear</c>): y = base_layer(x) + (α / r) ·
/// lora_B(lora_A(x)). lora_A [r, in] starts Kaiming-uniform (a = √5, PyTorch's Linear default, as PEFT) from the
/// given generator and lora_B [out, r] starts at zero, so a fresh adapter leaves the layer's function unchanged.
/// Composition, not inheritance: the wrapped layer keeps its weights under <c>base_layer</c>.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    private readonly Linear base_layer;
    private readonly Linear lora_A;
    private readonly Linear lora_B;

    public int Rank { get; }
    public double Alpha { get; }
    public double Scaling => Alpha / Rank;

    public LoraLinear(Linear baseLayer, int rank, double alpha, Generator generator) : base(nameof(LoraLinear))
    {
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), $"LoRA rank must be at least 1 (got {rank})");
        var weight = baseLayer.weight!;
        long outFeatures = weight.shape[0], inFeatures = weight.shape[1];
        Rank = rank;
        Alpha = alpha;
        base_layer = baseLayer;
        lora_A = nn.Linear(inFeatures, rank, hasBias: false, device: weight.device, dtype: weight.dtype);
        lora_B = nn.Linear(rank, outFeatures, hasBias: false, device: weight.device, dtype: weight.dtype);
        using (torch.no_grad())
        {
            // kaiming_uniform_(a=√5): bound = sqrt(6 / ((1 + a²) · fan_in)) = 1 / sqrt(fan_in)
            double bound = 1.0 / Math.Sqrt(inFeatures);
            var values =
                (torch.rand([rank, inFeatures], dtype: ScalarType.Float32, generator: generator) * 2 - 1) * bound;
            lora_A.weight!.copy_(values);
            values.Dispose();
            lora_B.weight!.zero_();
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var update = lora_B.forward(lora_A.forward(x)) * Scaling;
        return (base_layer.forward(x) + update).MoveToOuterDisposeScope();
    }
}
