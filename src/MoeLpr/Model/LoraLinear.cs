using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Model;

#pragma warning disable IDE1006 // field names are the PEFT state-dict keys

/// <summary>
/// A LoRA adapter around a frozen linear layer (PEFT <c>lora.Linear</c>):
/// y = base_layer(x) + (α / r) · lora_B(lora_A(dropout(x))), the dropout (PEFT's <c>lora_dropout</c>) applied to the
/// LoRA branch's input in training mode only; it has no weights, so the state dict is PEFT's.
/// lora_A [r, in] starts Kaiming-uniform (a = √5, PyTorch's Linear default, as PEFT) from the given generator and
/// lora_B [out, r] starts at zero, so a fresh adapter leaves the layer's function unchanged. Composition, not
/// inheritance: the wrapped layer keeps its weights under <c>base_layer</c>.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    /// <summary>In the name of every LoRA parameter (<c>lora_A</c>, <c>lora_B</c>) and of no base parameter.</summary>
    public const string AdapterMarker = "lora_";

    private readonly Linear base_layer;
    private readonly Linear lora_A;
    private readonly Linear lora_B;

    public int Rank { get; }
    public int Alpha { get; }
    public double Scaling => (double)Alpha / Rank;
    /// <summary>Probability of zeroing an element of the LoRA branch's input while training.</summary>
    public double Dropout { get; }

    public LoraLinear(Linear baseLayer, int rank, int alpha, Generator generator, double dropout = 0)
        : base(nameof(LoraLinear))
    {
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), $"LoRA rank must be at least 1 (got {rank})");
        if (!(dropout >= 0 && dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), $"LoRA dropout must be in [0, 1) (got {dropout})");
        var weight = baseLayer.weight!;
        long outFeatures = weight.shape[0], inFeatures = weight.shape[1];
        Rank = rank;
        Alpha = alpha;
        Dropout = dropout;
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
        var input = Dropout > 0 && training ? nn.functional.dropout(x, Dropout, training: true) : x;
        var update = lora_B.forward(lora_A.forward(input)) * Scaling;
        return (base_layer.forward(x) + update).MoveToOuterDisposeScope();
    }
}
