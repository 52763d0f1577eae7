using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Model;

#pragma warning disable IDE1006 // field names are the HuggingFace state-dict keys

/// <summary>
/// Root-mean-square layer norm as in HF LLaMA: normalise in float32, cast back to the input dtype, then scale.
/// </summary>
public sealed class RMSNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double _eps;

    public RMSNorm(long hiddenSize, double eps, ScalarType dtype = ScalarType.Float32) : base(nameof(RMSNorm))
    {
        _eps = eps;
        weight = nn.Parameter(torch.ones(hiddenSize, dtype: dtype));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var x = input.to_type(Precision.AtLeastFloat32(input.dtype));
        var variance = x.pow(2).mean([-1], keepdim: true);
        var normed = (x * torch.rsqrt(variance + _eps)).to_type(input.dtype);
        return (weight * normed).MoveToOuterDisposeScope();
    }
}
