using System.Globalization;
using System.Text;
using Microsoft.Data.Analysis;

namespace MoeLpr.Evaluation;

/// <summary>
/// One line of a <see cref="PerplexityReport"/>: a dataset, or a language group ("old"/"new") pooled over its datasets.
/// </summary>
/// <param name="Kind">"dataset" or "group".</param>
/// <param name="Language">"old", "new", or "" when the dataset has no language.</param>
public sealed record PerplexityRow(string Name, string Kind, string Language, long Tokens, double NllSum,
    double MeanNll, double Perplexity)
{
    public static PerplexityRow Of(string name, string kind, string language, double nllSum, long tokens)
    {
        double mean = tokens == 0 ? double.NaN : nllSum / tokens;
        return new PerplexityRow(name, kind, language, tokens, nllSum, mean, Math.Exp(mean));
    }
}

/// <summary>Perplexity results as rows, a Microsoft.Data.Analysis DataFrame and a text table.</summary>
public sealed class PerplexityReport(IReadOnlyList<PerplexityRow> rows)
{
    public IReadOnlyList<PerplexityRow> Rows { get; } = rows;

    public PerplexityRow this[string name] =>
        Rows.FirstOrDefault(r => r.Name == name) ?? throw new KeyNotFoundException($"no perplexity row '{name}'");

    public DataFrame ToDataFrame() => new(
        new StringDataFrameColumn("name", Rows.Select(r => r.Name)),
        new StringDataFrameColumn("kind", Rows.Select(r => r.Kind)),
        new StringDataFrameColumn("language", Rows.Select(r => r.Language)),
        new Int64DataFrameColumn("tokens", Rows.Select(r => r.Tokens)),
        new DoubleDataFrameColumn("mean_nll", Rows.Select(r => r.MeanNll)),
        new DoubleDataFrameColumn("perplexity", Rows.Select(r => r.Perplexity)));

    public string ToTable()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{"name",-24} {"kind",-8} {"lang",-4} {"tokens",10} {"mean_nll",9} {"perplexity",11}");
        foreach (var r in Rows)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{r.Name,-24} {r.Kind,-8} {r.Language,-4} {r.Tokens,10} {r.MeanNll,9:0.0000} {r.Perplexity,11:0.000}");
        return text.ToString();
    }
}
