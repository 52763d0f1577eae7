using System.Globalization;
using Microsoft.Data.Analysis;
using MoeLpr.Data;
using MoeLpr.Evaluation;
using MoeLpr.Reporting;
using MoeLpr.Model;
using MoeLpr.Tests.TestSupport;
using TorchSharp;

namespace MoeLpr.Tests.Evaluation;

public class PerplexityEvaluatorTests
{
    static PackedCorpus Corpus(int blocks, int length, int vocab, int seed, bool old)
    {
        var random = new Random(seed);
        var ids = Enumerable.Range(0, blocks)
            .Select(_ => Enumerable.Range(0, length).Select(_ => random.Next(vocab)).ToArray()).ToList();
        return new PackedCorpus(length, ids, ids.Select(_ => Enumerable.Repeat(old, length).ToArray()).ToList(), [],
            fromCache: false);
    }

    /// <summary>
    /// Per dataset: exp of the token-weighted mean of the model's own shifted LM loss; per group: pooled over datasets
    /// by tokens. Masking a token id removes exactly its target positions.
    /// </summary>
    [Fact]
    public void Perplexity_IsExpOfTokenWeightedNll_PerDatasetAndGroup()
    {
        var config = Model.TinyModels.Llama;
        using var model = Model.TinyModels.Create(config, seed: 4);
        var a = Corpus(3, 10, config.VocabSize, 1, old: true);
        var b = Corpus(2, 10, config.VocabSize, 2, old: true);
        var c = Corpus(1, 10, config.VocabSize, 3, old: false);

        var report = PerplexityEvaluator.Evaluate(model, [new("a", true, a), new("b", true, b), new("c", false, c)],
            batchSize: 2, maskedLabelTokenId: null);

        double LossOf(PackedCorpus corpus)
        {
            var (ids, _) = corpus.MakeBatch(Enumerable.Range(0, corpus.Count).ToArray());
            using var noGrad = torch.no_grad();
            return model.forward(new CausalLMInput(ids, ids)).LmLoss!.item<float>();
        }
        Assert.Equal(LossOf(a), report["a"].MeanNll, 5);
        Assert.Equal(3 * 9, report["a"].Tokens);
        Assert.Equal(Math.Exp(report["a"].MeanNll), report["a"].Perplexity, 9);
        var old = report.Rows.Single(r => r.Kind == "group" && r.Name == "old");
        Assert.Equal(5 * 9, old.Tokens);
        Assert.Equal((LossOf(a) * 27 + LossOf(b) * 18) / 45, old.MeanNll, 5);
        Assert.Equal(LossOf(c), report.Rows.Single(r => r.Kind == "group" && r.Name == "new").MeanNll, 5);
        Assert.True(model.training, "the evaluator restores train mode");

        int masked = a.Blocks[0][5];
        long maskedTargets = a.Blocks.Sum(block => block.Skip(1).Count(id => id == masked));
        var withMask = PerplexityEvaluator.Evaluate(model, [new("a", true, a)], 2, maskedLabelTokenId: masked);
        Assert.Equal(27 - maskedTargets, withMask["a"].Tokens);

        using var temp = new TempDirectory();
        DataFrameExport.WriteCsv(report.ToDataFrame(), temp.File("ppl.csv"));
        var csv = File.ReadAllLines(temp.File("ppl.csv"));
        Assert.Equal("name,kind,language,tokens,mean_nll,perplexity", csv[0]);
        Assert.Equal(6, csv.Length); // 3 datasets + old + new
        // round-trip digits
        Assert.Equal(report["b"].Perplexity, double.Parse(csv[2].Split(',')[5], CultureInfo.InvariantCulture));
        Assert.Equal(5, DataFrame.LoadCsv(temp.File("ppl.csv")).Rows.Count);
        Assert.Contains("perplexity", report.ToTable());
    }
}
