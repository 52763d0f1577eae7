using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Training;

/// <summary>
/// The multi-tensor update against what it replaces, run side by side on copies of the same parameters with the same
/// gradients: libtorch's <c>clip_grad_norm_</c> and TorchSharp's <c>AdamW.step</c> + <c>zero_grad</c>. On the CPU
/// they must agree bit for bit: parameters, both moments, step counts and the returned norm. Narrower parameters
/// (bfloat16, float16) are compared with the reference run on float32 copies, fed the same gradients widened, as mixed
/// precision does: the master must be that copy bit for bit, and the parameter that copy rounded.
/// </summary>
public class MultiTensorAdamWTests
{
    static readonly long[][] Shapes = [[6, 5], [5], [3, 4, 2], [1]];

    [Theory]
    [InlineData(ScalarType.Float32, 0.0)]
    [InlineData(ScalarType.Float32, 0.1)]
    [InlineData(ScalarType.Float64, 0.0)]
    [InlineData(ScalarType.BFloat16, 0.0)]
    [InlineData(ScalarType.BFloat16, 0.1)]
    [InlineData(ScalarType.Float16, 0.0)]
    public void Update_IsBitIdenticalToClipGradNormAndTorchSharpAdamW(ScalarType dtype, double weightDecay)
    {
        torch.manual_seed(7);
        bool narrow = dtype is ScalarType.BFloat16 or ScalarType.Float16;
        var masterType = narrow ? ScalarType.Float32 : dtype;
        var candidate = Shapes.Select(shape => new Parameter(torch.randn(shape).to_type(dtype))).ToList();
        var reference = candidate.Select(p => new Parameter(p.detach().to_type(masterType).clone())).ToList();
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
                Backward(reference[i], gradient.to_type(masterType));
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
            var masters = multiTensor.MasterWeights();
            Assert.Equal(narrow ? Shapes.Length : 0, masters.Count);
            for (int i = 0; i < Shapes.Length; i++)
            {
                AssertSameBits(reference[i].to_type(dtype), candidate[i], $"parameter {i} after step {step + 1}");
                if (narrow) AssertSameBits(reference[i], masters[$"{i}"], $"master {i} after step {step + 1}");
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

    /// <summary>
    /// The reason for the masters: AdamW's steps are about the learning rate, 5e-5 here, under half the bfloat16
    /// spacing at 0.02 (2⁻¹³ ≈ 1.2e-4). Updated in place the weight never moves; through its master it moves by the
    /// sum of the steps.
    /// </summary>
    [Fact]
    public void Bfloat16Weights_TakeStepsSmallerThanTheirSpacing()
    {
        const double learningRate = 5e-5;
        var initial = torch.full(4, 0.02, dtype: ScalarType.BFloat16);
        var inPlace = new Parameter(initial.clone());
        var mixed = new Parameter(initial.clone());
        using var adamW = torch.optim.AdamW([inPlace], lr: learningRate, weight_decay: 0);
        using var multiTensor = new MultiTensorAdamW([mixed], learningRate);
        for (int step = 0; step < 10; step++)
        {
            using var scope = torch.NewDisposeScope();
            Backward(inPlace, torch.ones(4, dtype: ScalarType.BFloat16));
            Backward(mixed, torch.ones(4, dtype: ScalarType.BFloat16));
            adamW.step();
            adamW.zero_grad();
            multiTensor.Step(learningRate);
        }

        AssertSameBits(initial, inPlace, "the weight updated in place (expected to stay put)");
        var master = multiTensor.MasterWeights()["0"];
        var expected = initial.to_type(ScalarType.Float32) - 10 * learningRate;
        Assert.True(torch.allclose(master, expected, rtol: 0, atol: 1e-7), $"master {master.max().item<float>()}");
        AssertSameBits(master.to_type(ScalarType.BFloat16), mixed, "the weight updated through its master");
        Assert.True(mixed.max().ToSingle() < initial.max().ToSingle(), "the bfloat16 weight moved");
    }

    [Fact]
    public void RestoreMasterWeights_TakesTheSavedMasters_OrTheWeights_AndNamesTheFileOfAMismatch()
    {
        const string source = "checkpoint-3/master_weights.safetensors";
        var parameter = new Parameter(torch.ones(3, dtype: ScalarType.BFloat16));
        using var multiTensor = new MultiTensorAdamW([parameter], 1e-2);
        var master = multiTensor.MasterWeights()["0"];

        multiTensor.RestoreMasterWeights(new Dictionary<string, Tensor> { ["0"] = torch.full(3, 1.001f) }, source);
        AssertSameBits(torch.full(3, 1.001f), master, "the saved master");
        using (torch.no_grad()) parameter.fill_(2);
        multiTensor.RestoreMasterWeights(null, source);
        AssertSameBits(torch.full(3, 2f), master, "the master taken from the weight");

        var otherParameter = Assert.Throws<InvalidDataException>(() => multiTensor.RestoreMasterWeights(
            new Dictionary<string, Tensor> { ["1"] = torch.ones(3) }, source));
        Assert.StartsWith(source, otherParameter.Message);
        var otherShape = Assert.Throws<InvalidDataException>(() => multiTensor.RestoreMasterWeights(
            new Dictionary<string, Tensor> { ["0"] = torch.ones(4) }, source));
        Assert.StartsWith(source, otherShape.Message);
        Assert.Contains("[4]", otherShape.Message);
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
