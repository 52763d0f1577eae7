using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Model;

#pragma warning disable IDE1006 // field names are the HuggingFace state-dict keys

/// <summary>SwiGLU feed-forward block: down_proj(silu(gate_proj(x)) · up_proj(x)). No biases.</summary>
public sealed class LlamaMLP : nn.Module<Tensor, Tensor>
{
    private readonly Linear gate_proj;
    private readonly Linear up_proj;
    private readonly Linear down_proj;

    public LlamaMLP(long hiddenSize, long intermediateSize, ScalarType dtype = ScalarType.Float32) : base(nameof(LlamaMLP))
    {
        gate_proj = nn.Linear(hiddenSize, intermediateSize, hasBias: false, dtype: dtype);
        up_proj = nn.Linear(hiddenSize, intermediateSize, hasBias: false, dtype: dtype);
        down_proj = nn.Linear(intermediateSize, hiddenSize, hasBias: false, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>The weight the block is built around; its shape [intermediate, hidden], dtype and device describe the MLP.</summary>
    public Parameter GateWeight => gate_proj.weight!;

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
