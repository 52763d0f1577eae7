using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>
/// Rotary position embedding, HF "half-split" convention: the head dimension is split into two halves
/// (x1, x2) and rotated as (x1·cos − x2·sin, x2·cos + x1·sin) with angle position · θ^(−2i/d).
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

    /// <summary>
    /// cos and sin tables [T, headDim] for positions 0..T-1 in the model's <paramref name="dtype"/>: computed in
    /// float32 (float64 for float64 models) and cast once per forward, as HF does, not per layer.
    /// </summary>
    public (Tensor Cos, Tensor Sin) Compute(long seqLen, Device device, ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var computeDtype = Precision.AtLeastFloat32(dtype);
        var exponents = torch.arange(0, _headDim, 2, dtype: computeDtype, device: device) / _headDim;
        var invFreq = torch.pow(_theta, exponents).reciprocal();            // θ^(−2i/d), [d/2]
        var positions = torch.arange(seqLen, dtype: computeDtype, device: device);
        var freqs = positions.unsqueeze(1) * invFreq.unsqueeze(0);         // [T, d/2]
        var angles = torch.cat([freqs, freqs], dim: -1);                   // [T, d]: both halves share angles
        return (angles.cos().to_type(dtype).MoveToOuterDisposeScope(),
                angles.sin().to_type(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>Rotates <paramref name="x"/> [B, H, T, d] by tables in x's dtype (<see cref="Compute"/>).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = torch.NewDisposeScope();
        var rotated = x * cos + RotateHalf(x) * sin;
        return rotated.MoveToOuterDisposeScope();
    }

    /// <summary>(x1, x2) → (−x2, x1) over the two halves of the last dimension.</summary>
    private static Tensor RotateHalf(Tensor x)
    {
        var half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        return torch.cat([-x2, x1], dim: -1);
    }
}
