using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Training;

/// <summary>
/// The multi-tensor update against what it replaces, run side by side on copies of the same parameters with the same
/// gradients: libtorch's <c>clip_grad_norm_</c> and TorchSharp's <c>AdamW.step</c> + <c>zero_grad</c>. On the CPU
/// they must agree bit for bit: parameters, both moments, step counts and the returned norm.
/// </summary>
public class MultiTensorAdamWTests
{
    static readonly long[][] Shapes = [[6, 5], [5], [3, 4, 2], [1]];

    [Theory]
    [InlineData(ScalarType.Float32, 0.0)]
    [InlineData(ScalarType.Float32, 0.1)]
    [InlineData(ScalarType.Float64, 0.0)]
    [InlineData(ScalarType.BFloat16, 0.0)]
    public void Update_IsBitIdenticalToClipGradNormAndTorchSharpAdamW(ScalarType dtype, double weightDecay)
    {
        torch.manual_seed(7);
        var reference = Shapes.Select(shape => new Parameter(torch.randn(shape).to_type(dtype))).ToList();
        var candidate = reference.Select(p => new Parameter(p.detach().clone())).ToList();
        using var adamW = torch.optim.AdamW(reference, lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8,
                                            weight_decay: weightDecay);
        using var multiTensor = new MultiTensorAdamW(candidate, 1e-2, weightDecay: weightDecay);

        // Clipping active (0.5) and inactive (∞). The second parameter gets its first gradient at step 3 (as an expert
        // no token chose in the first steps), so its step count stays behind and the update needs two sets of bias
        // corrections.
        double[] maxNorms = [0.5, double.PositiveInfinity, 0.5, 1.0, 0.5];
        for (int step = 0; step < maxNorms.Length; step++)
        {
            using var scope = torch.NewDisposeScope();
            double learningRate = 1e-2 * (step + 1);
            for (int i = 0; i < Shapes.Length; i++)
            {
                if (i == 1 && step < 2) continue;
                var gradient = (torch.randn(Shapes[i]) * (step + 1)).to_type(dtype);
                Backward(reference[i], gradient);
                Backward(candidate[i], gradient);
            }

            double expectedNorm = torch.nn.utils.clip_grad_norm_(reference, maxNorms[step]);
            foreach (var group in adamW.ParamGroups) group.LearningRate = learningRate;
            adamW.step();
            adamW.zero_grad();
            double norm = multiTensor.ClipGradNorm(maxNorms[step]).ToDouble();
            multiTensor.Step(learningRate);

            Assert.Equal(expectedNorm, norm);
            var expectedStates = adamW.state_dict().State.Cast<AdamW.State>().ToList();
            var states = multiTensor.Optimizer.state_dict().State.Cast<AdamW.State>().ToList();
            for (int i = 0; i < Shapes.Length; i++)
            {
                AssertSameBits(reference[i], candidate[i], $"parameter {i} after step {step + 1}");
                AssertSameBits(expectedStates[i].exp_avg, states[i].exp_avg, $"exp_avg {i} after step {step + 1}");
                AssertSameBits(expectedStates[i].exp_avg_sq, states[i].exp_avg_sq,
                               $"exp_avg_sq {i} after step {step + 1}");
                Assert.Equal(expectedStates[i].step, states[i].step);
                Assert.Equal(reference[i].grad is null, candidate[i].grad is null);
                Assert.True(candidate[i].grad is null || candidate[i].grad!.count_nonzero().item<long>() == 0,
                            "gradients are zeroed");
            }
        }
        Assert.Equal(3, multiTensor.Optimizer.state_dict().State.Cast<AdamW.State>().ElementAt(1).step);
    }

    [Fact]
    public void ClipGradNorm_WithoutGradients_IsZeroAndStepChangesNothing()
    {
        var parameter = new Parameter(torch.ones(3));
        using var multiTensor = new MultiTensorAdamW([parameter], 1e-2);
        Assert.Equal(0.0, multiTensor.ClipGradNorm(1.0).ToDouble());
        multiTensor.Step(1e-2);
        AssertSameBits(torch.ones(3), parameter, "the parameter");
        Assert.Equal(0, multiTensor.Optimizer.state_dict().State.Cast<AdamW.State>().Single().step);
    }

    [Fact]
    public void ClipGradNorm_ReturnsANonFiniteNormWithoutThrowing()
    {
        var parameter = new Parameter(torch.ones(3));
        using var multiTensor = new MultiTensorAdamW([parameter], 1e-2);
        Backward(parameter, torch.tensor(new[] { 1f, float.NaN, 2f }));
        Assert.True(double.IsNaN(multiTensor.ClipGradNorm(1.0).ToDouble()));
    }

    static void AssertSameBits(Tensor expected, Tensor actual, string what) =>
        Assert.True(TinyCheckpoints.BytesOf(expected).SequenceEqual(TinyCheckpoints.BytesOf(actual)),
                    $"{what} differs");

    /// <summary>Adds <paramref name="gradient"/> to the parameter's gradient, as a backward pass does.</summary>
    static void Backward(Parameter parameter, Tensor gradient) => (parameter * gradient).sum().backward();
}
