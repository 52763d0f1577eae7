using MoeLpr.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Training;

public class RoutingWindowTests
{
    const int Layers = 2, Experts = 4, TopK = 2;

    /// <summary>
    /// Two micro-batches (the first without old-language tokens) against the statistics computed token by token in
    /// double precision from the same logits: softmax over the experts, expert 0 among the K largest.
    /// </summary>
    [Fact]
    public void Statistics_MatchATokenByTokenComputation_OverMicroBatches()
    {
        using var generator = new Generator(11);
        var batches = new[] { (Tokens: 5, Old: Array.Empty<int>()), (Tokens: 7, Old: new[] { 0, 3, 4, 6 }) }
            .Select(b => (Logits: Enumerable.Range(0, Layers)
                    .Select(_ => torch.randn([b.Tokens, Experts], generator: generator) * 2).ToList(),
                Mask: OldMask(b.Tokens, b.Old)))
            .ToList();
        using var window = new RoutingWindow(TopK);

        window.Add(batches[0].Logits, batches[0].Mask);
        Assert.Null(window.OldLanguageExpert0Probability);
        Assert.Null(window.OldLanguageExpert0Selected);
        window.Add(batches[1].Logits, batches[1].Mask);

        var probabilitySum = new double[Experts];
        var p0Sum = new double[Layers];
        var selectedSum = new double[Layers];
        int tokens = 0, oldTokens = 0;
        foreach (var (logits, mask) in batches)
        {
            var old = mask.data<bool>().ToArray();
            for (int l = 0; l < Layers; l++)
            {
                var rows = logits[l].to_type(ScalarType.Float64).data<double>().ToArray();
                for (int t = 0; t < old.Length; t++)
                {
                    var p = Softmax(rows.Skip(t * Experts).Take(Experts).ToArray());
                    for (int e = 0; e < Experts; e++) probabilitySum[e] += p[e];
                    if (!old[t]) continue;
                    p0Sum[l] += p[0];
                    selectedSum[l] += p.Count(q => q > p[0]) < TopK ? 1 : 0;
                }
            }
            tokens += Layers * old.Length;
            oldTokens += old.Count(o => o);
        }

        AssertClose(probabilitySum.Select(s => s / tokens), window.ExpertProbability!);
        AssertClose(p0Sum.Select(s => s / oldTokens), window.OldLanguageExpert0Probability!);
        AssertClose(selectedSum.Select(s => s / oldTokens), window.OldLanguageExpert0Selected!);
        Assert.Contains(window.OldLanguageExpert0Selected!, rate => rate is > 0 and < 1);   // not all or nothing

        window.Reset();
        Assert.Null(window.ExpertProbability);
        Assert.Null(window.OldLanguageExpert0Probability);
    }

    static Tensor OldMask(int tokens, int[] old)
    {
        var mask = new bool[tokens];
        foreach (var t in old) mask[t] = true;
        return torch.tensor(mask);
    }

    static double[] Softmax(double[] logits)
    {
        var exp = logits.Select(x => Math.Exp(x - logits.Max())).ToArray();
        return exp.Select(x => x / exp.Sum()).ToArray();
    }

    static void AssertClose(IEnumerable<double> expected, double[] actual)
    {
        var want = expected.ToArray();
        Assert.Equal(want.Length, actual.Length);
        for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], actual[i], 1e-6);
    }
}
