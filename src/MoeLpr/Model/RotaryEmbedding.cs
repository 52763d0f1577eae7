using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>
/// Rotary position embedding, HF "half-split" convention: the head dimension is split into two halves
/// (x1, x2) and rotated as (x1·cos − x2·sin, x2·cos + x1·sin) with frequencies θ^(−2i/d).
/// Holds no state-dict entries: the frequencies are recomputed from <c>rope_theta</c>.
/// </summary>
public sealed class RotaryEmbedding
{
    private readonly int _headDim;
    private readonly double _theta;

    public RotaryEmbedding(int headDim, double theta)
    {
        _headDim = headDim;
        _theta = theta;
    }

    /// <summary>cos and sin tables [T, headDim] in float32 for positions 0..T-1 on <paramref name="device"/>.</summary>
    public (Tensor Cos, Tensor Sin) Compute(long seqLen, Device device)
    {
        using var scope = torch.NewDisposeScope();
        var exponents = torch.arange(0, _headDim, 2, dtype: ScalarType.Float64, device: device) / _headDim;
        var invFreq = torch.pow(_theta, exponents).reciprocal().to_type(ScalarType.Float32);
        var positions = torch.arange(seqLen, dtype: ScalarType.Float32, device: device);
        var freqs = positions.unsqueeze(1) * invFreq.unsqueeze(0);      // [T, d/2]
        var angles = torch.cat([freqs, freqs], dim: -1);                // [T, d]
        return (angles.cos().MoveToOuterDisposeScope(), angles.sin().MoveToOuterDisposeScope());
    }

    /// <summary>Rotates <paramref name="x"/> [B, H, T, d]; the rotation runs in float32 and returns x's dtype.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = torch.NewDisposeScope();
        var xf = x.to_type(ScalarType.Float32);
        var rotated = xf * cos + RotateHalf(xf) * sin;
        return rotated.to_type(x.dtype).MoveToOuterDisposeScope();
    }

    private static Tensor RotateHalf(Tensor x)
    {
        var half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        return torch.cat([-x2, x1], dim: -1);
    }
}
