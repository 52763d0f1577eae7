using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>
/// The dtype for precision-sensitive steps (norms, softmaxes, logits, losses): float32 for float32/16/bf16 weights,
/// float64 for float64 weights (used by the finite-difference gradient tests).
/// </summary>
internal static class Precision
{
    public static ScalarType AtLeastFloat32(ScalarType dtype) =>
        dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
}
