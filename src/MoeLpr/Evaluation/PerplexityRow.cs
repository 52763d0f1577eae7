namespace MoeLpr.Evaluation;

/// <summary>One line of a <see cref="PerplexityReport"/>: a dataset, or a language group ("old"/"new") pooled over its datasets.</summary>
/// <param name="Kind">"dataset" or "group".</param>
/// <param name="Language">"old", "new", or "" when the dataset has no language.</param>
public sealed record PerplexityRow(string Name, string Kind, string Language, long Tokens, double NllSum, double MeanNll, double Perplexity)
{
    public static PerplexityRow Of(string name, string kind, string language, double nllSum, long tokens)
    {
        double mean = tokens == 0 ? double.NaN : nllSum / tokens;
        return new PerplexityRow(name, kind, language, tokens, nllSum, mean, Math.Exp(mean));
    }
}
