using MoeLpr.Model;
using MoeLpr.Tests.Model;
using MoeLpr.Training.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Losses;

public class LoadBalancingLossTests
{
    /// <summary>N · Σ_e F_e · P_e for one layer, in plain double arithmetic.</summary>
    static double HandComputed(double[][] logits, int topK)
    {
        int n = logits[0].Length;
        var fraction = new double[n];
        var meanProbability = new double[n];
        foreach (var row in logits)
        {
            var exp = row.Select(Math.Exp).ToArray();
            var p = exp.Select(v => v / exp.Sum()).ToArray();
            foreach (var e in Enumerable.Range(0, n).OrderByDescending(e => p[e]).Take(topK))
                fraction[e] += 1.0 / logits.Length;
            for (int e = 0; e < n; e++) meanProbability[e] += p[e] / logits.Length;
        }
        return n * Enumerable.Range(0, n).Sum(e => fraction[e] * meanProbability[e]);
    }

    static Tensor ToTensor(double[][] rows, ScalarType dtype = ScalarType.Float32) =>
        torch.tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]).to_type(dtype);

    static readonly double[][] LayerA = [[2.0, 0.5, -1.0], [0.1, 1.5, 0.3]];
    static readonly double[][] LayerB = [[-0.4, 0.0, 0.9], [1.2, -0.7, 0.2]];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TwoTokensThreeExpertsMatchHandComputation(int topK)
    {
        // Worked example for K = 1, layer A: p(token 0) = (0.7856, 0.1753, 0.0391), p(token 1) = (0.1593, 0.6461,
        // 0.1946);
        // token 0 → expert 0, token 1 → expert 1, F = (½, ½, 0), P = (0.4725, 0.4107, 0.1168),
        // L = 3 · (½·0.4725 + ½·0.4107) = 1.3248.
        using var a = ToTensor(LayerA);
        using var b = ToTensor(LayerB);
        var loss = LoadBalancingLoss.Compute([a, b], numExperts: 3, topK).item<float>();
        var expected = (HandComputed(LayerA, topK) + HandComputed(LayerB, topK)) / 2;
        Assert.Equal(expected, loss, tolerance: 1e-6);
        if (topK == 1) Assert.Equal(1.3248, HandComputed(LayerA, 1), tolerance: 1e-3);
    }

    [Theory]
    [InlineData(4, 1)]
    [InlineData(4, 2)]
    [InlineData(6, 2)]
    [InlineData(6, 3)]
    public void UniformRouterScoresK(int experts, int topK)
    {
        using var logits = torch.zeros(10, experts);
        Assert.Equal(topK, LoadBalancingLoss.Compute([logits], experts, topK).item<float>(), tolerance: 1e-6);
    }

    [Fact]
    public void EvenlySpreadConfidentRouterScoresK()
    {
        // Three tokens, each confident about a different expert: F and P are both uniform by symmetry.
        using var logits = torch.tensor(new float[] { 3, 0, 0, 0, 3, 0, 0, 0, 3 }).reshape(3, 3);
        Assert.Equal(1.0, LoadBalancingLoss.Compute([logits], 3, 1).item<float>(), tolerance: 1e-6);
    }

    [Fact]
    public void RouterCollapsedOntoTwoExpertsScoresN()
    {
        // Every token sends almost all probability to experts 0 and 1: F = (1, 1, 0, 0), P ≈ (½, ½, 0, 0), L ≈ 4.
        using var logits = torch.tensor(new float[] { 9, 8, 0, 0, 8, 9, 0, 0, 9, 9, 0, 0 }).reshape(3, 4);
        Assert.Equal(4.0, LoadBalancingLoss.Compute([logits], 4, 2).item<float>(), tolerance: 0.01);
    }

    [Fact]
    public void GradientMatchesFiniteDifferences()
    {
        using var a = ToTensor(LayerA, ScalarType.Float64).requires_grad_();
        using var b = ToTensor(LayerB, ScalarType.Float64).requires_grad_();
        var error = GradientCheck.MaxError(() => LoadBalancingLoss.Compute([a, b], 3, 2), [a, b]);
        Assert.True(error < 1e-7, $"max gradient error {error}");
    }

    /// <summary>
    /// All layers at once give, bit for bit, the loss and router-logit gradients of the per-layer formula (routing,
    /// then N · Σ_e F_e · P_e per layer, then the mean over layers) at a training step's size.
    /// </summary>
    [Fact]
    public void AllLayersAtOnceEqualThePerLayerFormulaBitForBit()
    {
        const int layers = 4, tokens = 4096, experts = 4, topK = 2;
        var logits = Enumerable.Range(0, layers).Select(l =>
        {
            torch.manual_seed(30 + l);
            return torch.randn(tokens, experts).requires_grad_(true);
        }).ToArray();
        var perLayer = logits.Select(l =>
        {
            var routing = MoeBlock.Route(l, topK);
            var chosen = nn.functional.one_hot(routing.Experts, experts).sum(1).to_type(routing.Probabilities.dtype);
            return experts * (chosen.mean([0]) * routing.Probabilities.mean([0])).sum();
        }).ToArray();
        var expected = torch.stack(perLayer).mean();
        var expectedGradients = torch.autograd.grad([expected], logits);
        var actual = LoadBalancingLoss.Compute(logits, experts, topK);
        var gradients = torch.autograd.grad([actual], logits);

        Assert.Equal(expected.item<float>(), actual.item<float>());
        for (int l = 0; l < layers; l++)
            Assert.True(expectedGradients[l].IsExactly(gradients[l]), $"layer {l}: router-logit gradients differ");
    }
}
