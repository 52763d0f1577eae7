using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests;

/// <summary>Compares autograd gradients with central finite differences (float64 tensors only).</summary>
internal static class GradientCheck
{
    /// <summary>
    /// For every element of each tensor in <paramref name="inputs"/>: analytic ∂loss/∂x from backward versus
    /// (loss(x+ε) − loss(x−ε)) / 2ε. Returns the largest absolute difference; also asserts some gradient is
    /// non-zero.
    /// </summary>
    public static double MaxError(Func<Tensor> loss, IReadOnlyList<Tensor> inputs, double epsilon = 1e-6)
    {
        foreach (var x in inputs)
        {
            if (x.dtype != ScalarType.Float64) throw new ArgumentException("gradient checks need float64 tensors");
            x.grad?.zero_();
        }
        using (var scope = torch.NewDisposeScope()) loss().backward();

        double maxError = 0, maxGradient = 0;
        foreach (var x in inputs)
        {
            var analytic = x.grad!.data<double>().ToArray();
            var flat = x.detach().view(-1);   // shares storage with x
            for (int i = 0; i < analytic.Length; i++)
            {
                using var scope = torch.NewDisposeScope();
                using var _ = torch.no_grad();
                var original = flat[i].item<double>();
                flat[i] = original + epsilon;
                var plus = loss().item<double>();
                flat[i] = original - epsilon;
                var minus = loss().item<double>();
                flat[i] = original;
                var numeric = (plus - minus) / (2 * epsilon);
                maxError = Math.Max(maxError, Math.Abs(numeric - analytic[i]));
                maxGradient = Math.Max(maxGradient, Math.Abs(analytic[i]));
            }
        }
        if (maxGradient == 0)
            throw new InvalidOperationException("all gradients are zero: the check would prove nothing");
        return maxError;
    }
}
