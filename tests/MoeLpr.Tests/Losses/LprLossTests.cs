using MoeLpr.Training.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Losses;

public class LprLossTests
{
    // Two MoE layers, two tokens, three experts; token 0 is old-language, token 1 new.
    static readonly double[][] LayerA = [[2.0, 0.5, -1.0], [0.1, 1.5, 0.3]];
    static readonly double[][] LayerB = [[-0.4, 0.0, 0.9], [1.2, -0.7, 0.2]];

    static double[] Softmax(double[] row)
    {
        var exp = row.Select(Math.Exp).ToArray();
        return exp.Select(v => v / exp.Sum()).ToArray();
    }

    static Tensor ToTensor(double[][] rows, ScalarType dtype = ScalarType.Float32) =>
        torch.tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]).to_type(dtype);

    static Tensor OldMask(params bool[] old) => torch.tensor(old).reshape(1, old.Length);

    [Fact]
    public void NllFormIsMeanOfMinusLogProbabilityOfExpertZero()
    {
        using var a = ToTensor(LayerA);
        using var b = ToTensor(LayerB);
        using var mask = OldMask(true, false);
        var expected = (-Math.Log(Softmax(LayerA[0])[0]) - Math.Log(Softmax(LayerB[0])[0])) / 2;
        Assert.Equal(expected, LprLoss.Compute([a, b], mask, LprLossForm.Nll).item<float>(), tolerance: 1e-6);
    }

    [Fact]
    public void ReferenceFormIsCrossEntropyOnProbabilities()
    {
        using var a = ToTensor(LayerA);
        using var b = ToTensor(LayerB);
        using var mask = OldMask(true, true);
        double PerToken(double[] logits)
        {
            var p = Softmax(logits);
            return -p[0] + Math.Log(p.Sum(Math.Exp));
        }
        var expected = new[] { LayerA[0], LayerA[1], LayerB[0], LayerB[1] }.Average(PerToken);
        Assert.Equal(expected, LprLoss.Compute([a, b], mask, LprLossForm.Reference).item<float>(), tolerance: 1e-6);
    }

    [Fact]
    public void ReferenceFormIsBoundedBetweenItsMinimumAndMaximumForFourExperts()
    {
        using var mask = OldMask(true);
        using var toExpertZero = torch.tensor(new float[] { 50, 0, 0, 0 }).reshape(1, 4);
        using var uniform = torch.zeros(1, 4);
        using var toExpertOne = torch.tensor(new float[] { 0, 50, 0, 0 }).reshape(1, 4);
        Assert.Equal(Math.Log(Math.E + 3) - 1,
            LprLoss.Compute([toExpertZero], mask, LprLossForm.Reference).item<float>(), tolerance: 1e-6);
        Assert.Equal(0.7437, Math.Log(Math.E + 3) - 1, tolerance: 1e-4);
        Assert.Equal(Math.Log(4), LprLoss.Compute([uniform], mask, LprLossForm.Reference).item<float>(),
            tolerance: 1e-6);
        Assert.Equal(Math.Log(Math.E + 3), LprLoss.Compute([toExpertOne], mask, LprLossForm.Reference).item<float>(),
            tolerance: 1e-6);
        Assert.Equal(1.7437, Math.Log(Math.E + 3), tolerance: 1e-4);
        // The NLL form of the same router is unbounded above and 0 at the optimum.
        Assert.Equal(0, LprLoss.Compute([toExpertZero], mask, LprLossForm.Nll).item<float>(), tolerance: 1e-6);
        Assert.Equal(Math.Log(4), LprLoss.Compute([uniform], mask, LprLossForm.Nll).item<float>(), tolerance: 1e-6);
    }

    [Theory]
    [InlineData(LprLossForm.Nll)]
    [InlineData(LprLossForm.Reference)]
    public void NoOldTokenGivesZeroWithAFiniteGradient(LprLossForm form)
    {
        using var logits = ToTensor(LayerA).requires_grad_();
        using var mask = OldMask(false, false);
        var loss = LprLoss.Compute([logits], mask, form);
        Assert.Equal(0f, loss.item<float>());
        loss.backward();
        Assert.False(logits.grad!.isnan().any().item<bool>());
        Assert.Equal(0, logits.grad!.abs().sum().item<float>());
    }

    [Theory]
    [InlineData(LprLossForm.Nll)]
    [InlineData(LprLossForm.Reference)]
    public void NewTokenWhoseExpertZeroIsImpossibleLeavesLossAndGradientFinite(LprLossForm form)
    {
        // The new-language token's −log p_0 is infinite; the loss is a masked mean over every token, so it must not
        // reach the result as ∞·0 = NaN.
        using var logits = torch.tensor(new float[] { 2, 0.5f, -1, float.NegativeInfinity, 1, 0 }).reshape(2, 3)
            .requires_grad_();
        using var old = ToTensor([LayerA[0]]);
        using var mask = OldMask(true, false);
        var loss = LprLoss.Compute([logits], mask, form);
        Assert.Equal(LprLoss.Compute([old], OldMask(true), form).item<float>(), loss.item<float>());
        loss.backward();
        Assert.False(logits.grad!.isnan().any().item<bool>());
        Assert.Equal(0, logits.grad![1].abs().sum().item<float>());
    }

    [Fact]
    public void MaskLengthMustMatchTheTokens()
    {
        using var logits = ToTensor(LayerA);
        using var mask = OldMask(true, false, true);
        Assert.Throws<ArgumentException>(() => LprLoss.Compute([logits], mask, LprLossForm.Nll));
    }

    [Theory]
    [InlineData(LprLossForm.Nll)]
    [InlineData(LprLossForm.Reference)]
    public void GradientMatchesFiniteDifferencesAndIgnoresNewTokens(LprLossForm form)
    {
        using var a = ToTensor(LayerA, ScalarType.Float64).requires_grad_();
        using var b = ToTensor(LayerB, ScalarType.Float64).requires_grad_();
        using var mask = OldMask(true, false);
        var error = GradientCheck.MaxError(() => LprLoss.Compute([a, b], mask, form), [a, b]);
        Assert.True(error < 1e-7, $"max gradient error {error}");
        Assert.Equal(0, a.grad![1].abs().sum().item<double>());   // the new-language token gets no LPR gradient
    }

    [Fact]
    public void ReferenceFormHasAWeakerGradientThanNll()
    {
        using var logits = torch.tensor(new double[] { -1, 1, 0.5, 0 }).reshape(1, 4).requires_grad_();
        using var mask = OldMask(true);
        LprLoss.Compute([logits], mask, LprLossForm.Nll).backward();
        var nll = logits.grad!.norm().item<double>();
        logits.grad!.zero_();
        LprLoss.Compute([logits], mask, LprLossForm.Reference).backward();
        var reference = logits.grad!.norm().item<double>();
        Assert.True(reference < nll / 2, $"reference {reference} vs nll {nll}");
    }
}
