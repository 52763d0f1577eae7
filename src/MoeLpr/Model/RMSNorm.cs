using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Model;

#pragma warning disable IDE1006 // field names are the HuggingFace state-dict keys

/// <summary>
/// Root-mean-square layer norm as in HF LLaMA: normalise in float32, cast back to the input dtype, then scale.
/// </summary>
/// <remarks>
/// The normalisation is libtorch's <c>rms_norm</c> without a weight, run as TorchScript (TorchSharp 0.107 binds no
/// <c>rms_norm</c>). On the CPU it issues HF's own operations (upcast, mean of squares, rsqrt, multiply, cast back),
/// with the same results bit for bit; on CUDA it is one fused kernel each way in place of about twenty, and a GPU step
/// at the benchmark's size pays for every kernel in host time. The weight multiplies outside it, after the cast back,
/// as in HF: inside, a bfloat16 output would be rounded once where HF rounds twice.
/// </remarks>
public sealed class RMSNorm : nn.Module<Tensor, Tensor>
{
    const string Script = """
        def normalize(x: Tensor, eps: float) -> Tensor:
            return torch.rms_norm(x, [x.size(-1)], None, eps)

        """;

    static readonly Lazy<torch.jit.CompilationUnit> Compiled = new(() => torch.jit.compile(Script));

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
        using var eps = _eps.ToScalar();   // kept alive through the call (dotnet/TorchSharp#1434)
        var normed = (Tensor)Compiled.Value.invoke("normalize", input, eps)!;
        return (weight * normed).MoveToOuterDisposeScope();
    }
}
