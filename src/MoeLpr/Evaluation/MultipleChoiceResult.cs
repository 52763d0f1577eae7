using System.Text;
using Microsoft.Data.Analysis;

namespace MoeLpr.Evaluation;

/// <summary>
/// The scores of one item: the summed log-likelihood of each choice and the choice each metric picks.
/// <c>acc</c> takes the largest log-likelihood; <c>acc_norm</c> divides it by the choice's length in characters
/// (Unicode code points, Python's <c>len</c>, as the harness does); <c>acc_norm_bytes</c> by its UTF-8 byte length,
/// which treats scripts with multi-byte characters (Greek, Chinese) alike across languages. Ties pick the first.
/// </summary>
public sealed record MultipleChoiceScore(MultipleChoiceItem Item, double[] LogLikelihoods)
{
    public int Prediction => ArgMax(LogLikelihoods);
    public int NormalizedPrediction =>
        ArgMax(LogLikelihoods.Select((v, i) => v / Item.Choices[i].EnumerateRunes().Count()).ToArray());
    public int ByteNormalizedPrediction =>
        ArgMax(LogLikelihoods.Select((v, i) => v / Encoding.UTF8.GetByteCount(Item.Choices[i])).ToArray());

    static int ArgMax(double[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}

/// <summary>Per-item scores of a multiple-choice evaluation and their per-language accuracies.</summary>
public sealed class MultipleChoiceResult
{
    public IReadOnlyList<MultipleChoiceScore> Scores { get; }
    public int NumFewShot { get; }

    public MultipleChoiceResult(IReadOnlyList<MultipleChoiceScore> scores, int numFewShot)
    {
        Scores = scores;
        NumFewShot = numFewShot;
    }

    /// <summary>
    /// One row per language (first-seen order): items, acc, acc_norm, acc_norm_bytes and the harness's standard errors
    /// (sample standard deviation over √n).
    /// </summary>
    public DataFrame PerLanguage()
    {
        var groups = Scores.GroupBy(s => s.Item.Language).ToList();
        var acc = groups.Select(g => g.Select(s => s.Prediction == s.Item.Gold ? 1.0 : 0.0).ToArray()).ToList();
        var norm = groups.Select(g => g.Select(s => s.NormalizedPrediction == s.Item.Gold ? 1.0 : 0.0).ToArray())
            .ToList();
        var bytes = groups.Select(g => g.Select(s => s.ByteNormalizedPrediction == s.Item.Gold ? 1.0 : 0.0).ToArray())
            .ToList();
        return new DataFrame(
            new StringDataFrameColumn("language", groups.Select(g => g.Key)),
            new Int32DataFrameColumn("num_fewshot", groups.Select(_ => NumFewShot)),
            new Int32DataFrameColumn("items", groups.Select(g => g.Count())),
            new DoubleDataFrameColumn("acc", acc.Select(a => a.Average())),
            new DoubleDataFrameColumn("acc_stderr", acc.Select(StandardError)),
            new DoubleDataFrameColumn("acc_norm", norm.Select(a => a.Average())),
            new DoubleDataFrameColumn("acc_norm_stderr", norm.Select(StandardError)),
            new DoubleDataFrameColumn("acc_norm_bytes", bytes.Select(a => a.Average())));
    }

    static double StandardError(double[] values)
    {
        if (values.Length < 2) return double.NaN;
        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
        return Math.Sqrt(variance / values.Length);
    }
}
