using System.Text;

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
    public int NormalizedPrediction => ArgMax(LogLikelihoods.Select((v, i) => v / Item.Choices[i].EnumerateRunes().Count()).ToArray());
    public int ByteNormalizedPrediction => ArgMax(LogLikelihoods.Select((v, i) => v / Encoding.UTF8.GetByteCount(Item.Choices[i])).ToArray());

    static int ArgMax(double[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
