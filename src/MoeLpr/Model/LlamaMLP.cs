using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Model;

#pragma warning disable IDE1006 // field names are the HuggingFace state-dict keys

/// <summary>SwiGLU feed-forward block: down_proj(silu(gate_proj(x)) · up_proj(x)). No biases.</summary>
public sealed class LlamaMLP : nn.Module<Tensor, Tensor>
{
    // Typed as modules, not Linear, so an adapter (e.g. LoraLinear) can wrap a projection in place.
    private nn.Module<Tensor, Tensor> gate_proj;
    private nn.Module<Tensor, Tensor> up_proj;
    private nn.Module<Tensor, Tensor> down_proj;

    /// <summary>The state-dict names of the three projections.</summary>
    public static readonly IReadOnlyList<string> ProjectionNames = ["gate_proj", "up_proj", "down_proj"];

    public LlamaMLP(long hiddenSize, long intermediateSize, ScalarType dtype = ScalarType.Float32)
        : base(nameof(LlamaMLP))
    {
        gate_proj = nn.Linear(hiddenSize, intermediateSize, hasBias: false, dtype: dtype);
        up_proj = nn.Linear(hiddenSize, intermediateSize, hasBias: false, dtype: dtype);
        down_proj = nn.Linear(intermediateSize, hiddenSize, hasBias: false, dtype: dtype);
        RegisterComponents();
    }

    public nn.Module<Tensor, Tensor> Projection(string name) => name switch
    {
        "gate_proj" => gate_proj, "up_proj" => up_proj, "down_proj" => down_proj,
        _ => throw new ArgumentException(
            $"no MLP projection '{name}' (expected {string.Join(", ", ProjectionNames)})", nameof(name)),
    };

    /// <summary>
    /// Puts <paramref name="replacement"/> where projection <paramref name="name"/> was, under the same name.
    /// </summary>
    public void ReplaceProjection(string name, nn.Module<Tensor, Tensor> replacement)
    {
        Projection(name); // validates the name
        ModuleSlot.Replace(this, name, replacement);
        switch (name)
        {
            case "gate_proj": gate_proj = replacement; break;
            case "up_proj": up_proj = replacement; break;
            default: down_proj = replacement; break;
        }
    }

    /// <summary>
    /// The weight the block is built around; its shape [intermediate, hidden], dtype and device describe the MLP.
    /// </summary>
    public Parameter GateWeight =>
        (gate_proj as Linear ?? throw new InvalidOperationException("gate_proj is wrapped by an adapter")).weight!;

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var gated = nn.functional.silu(gate_proj.forward(x)) * up_proj.forward(x);
        return down_proj.forward(gated).MoveToOuterDisposeScope();
    }

    /// <summary>An exact copy (same weights, dtype and device) that shares no storage with this MLP.</summary>
    public LlamaMLP DeepCopy()
    {
        var weight = GateWeight;
        var copy = new LlamaMLP(weight.shape[1], weight.shape[0], weight.dtype);
        copy.to(weight.device);
        using (torch.no_grad())
        {
            var source = state_dict();
            foreach (var (name, tensor) in copy.state_dict())
                tensor.copy_(source[name]);
        }
        return copy;
    }
}
