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
    /// Tables [T, headDim] for positions 0..T-1 in the model's <paramref name="dtype"/>: cos, and sin with its first
    /// half negated (<see cref="Apply"/>). Computed in float32 (float64 for float64 models) and cast once per forward,
    /// as HF does, not per layer.
    /// </summary>
    public (Tensor Cos, Tensor SignedSin) Compute(long seqLen, Device device, ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var computeDtype = Precision.AtLeastFloat32(dtype);
        var exponents = torch.arange(0, _headDim, 2, dtype: computeDtype, device: device) / _headDim;
        var invFreq = torch.pow(_theta, exponents).reciprocal();            // θ^(−2i/d), [d/2]
        var positions = torch.arange(seqLen, dtype: computeDtype, device: device);
        var freqs = positions.unsqueeze(1) * invFreq.unsqueeze(0);         // [T, d/2]
        var angles = torch.cat([freqs, freqs], dim: -1);                   // [T, d]: both halves share angles
        var (half, sin) = (_headDim / 2, angles.sin());
        var signedSin = torch.cat([-sin.narrow(-1, 0, half), sin.narrow(-1, half, half)], dim: -1);
        return (angles.cos().to_type(dtype).MoveToOuterDisposeScope(),
                signedSin.to_type(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Rotates <paramref name="x"/> [B, H, T, d] by tables in x's dtype (<see cref="Compute"/>): HF's
    /// x·cos + rotate_half(x)·sin, where rotate_half(x) = (−x2, x1), computed as x·cos + roll(x, d/2)·signedSin with
    /// roll(x, d/2) = (x2, x1) and the sign in the table. The same values bit for bit (x2·(−s) is −(x2·s) in floating
    /// point), and one kernel forward and one backward where the halves, the negation and the concatenation took two
    /// and about six, for the query and key tensors of every layer.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor signedSin)
    {
        using var scope = torch.NewDisposeScope();
        var rotated = x * cos + x.roll(x.shape[^1] / 2, -1) * signedSin;
        return rotated.MoveToOuterDisposeScope();
    }
}
