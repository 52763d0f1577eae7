using static TorchSharp.torch;
using TorchSharp;

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

/// <summary>
/// Fill values used on every forward, held in static fields. TorchSharp 0.107 frees an implicitly converted
/// <see cref="Scalar"/> in its finalizer, which can run while libtorch is still reading it if another thread triggers
/// a GC (dotnet/TorchSharp#1434): under a concurrent GC, <c>masked_fill(mask, double)</c> failed about once in
/// 10,000 calls. A static Scalar is never finalised.
/// </summary>
internal static class FillValues
{
    public static readonly Scalar NegativeInfinity = double.NegativeInfinity.ToScalar();
    public static readonly Scalar IgnoreIndex = LlamaForCausalLM.IgnoreIndex.ToScalar();
}
