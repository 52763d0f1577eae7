using Plotly.NET;
using Plotly.NET.CSharp;
using Plotly.NET.LayoutObjects;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace MoeLpr.Reporting;

/// <summary>
/// Where the routers send each language's tokens: the MoE-LPR diagnostics (old languages should go to expert 0,
/// the frozen original; new languages to the new experts).
/// </summary>
public static class RoutingCharts
{
    /// <summary>
    /// Heatmap of the expert-0 share (0..1) per language (rows) and MoE layer (columns), each cell labelled in percent.
    /// </summary>
    /// <param name="share">[language][layer] fraction of the language's tokens whose top-1 (or top-K) includes expert
    /// 0.</param>
    public static GenericChart Expert0ShareHeatmap(IReadOnlyList<string> languages, IReadOnlyList<int> layers,
        IReadOnlyList<IReadOnlyList<double>> share,
        string title = "Share of tokens with expert 0 (original) in their top-K")
    {
        Shape.Require(share.Count == languages.Count, $"share has {share.Count} rows for {languages.Count} languages");
        for (var i = 0; i < share.Count; i++)
            Shape.Require(share[i].Count == layers.Count,
                $"share row '{languages[i]}' has {share[i].Count} values for {layers.Count} layers");

        var layerLabels = layers.Select(l => $"layer {l}").ToArray();
        var chart = CSharpChart.Heatmap<double, string, string, string>(
            zData: share, X: layerLabels, Y: languages.ToArray(), ColorScale: StyleParam.Colorscale.Viridis,
            ReverseYAxis: true);
        foreach (var trace in chart.GetTraces())
        {
            trace.SetProperty("zmin", 0.0);
            trace.SetProperty("zmax", 1.0);
            trace.SetProperty("texttemplate", "%{z:.0%}");
            trace.SetProperty("hovertemplate", "%{y}, %{x}<br>expert-0 share %{z:.1%}<extra></extra>");
            trace.SetProperty("colorbar", ColorBarOf("expert-0 share", ".0%"));
        }
        var width = Math.Clamp(220 + 70 * layers.Count, 560, ChartStyle.MaxWidth);
        var height = Math.Clamp(160 + 48 * languages.Count, 320, 900);
        return ChartStyle.Apply(chart, title, new ChartStyle.Axis("MoE layer"), new ChartStyle.Axis("language"), width,
            height, showLegend: false);
    }

    /// <summary>
    /// One stacked column per language, one coloured segment per expert: how the language's routing decisions
    /// split over the experts (each column sums to 1 when the shares are top-1 fractions).
    /// </summary>
    /// <param name="share">[language][expert] fraction of routing decisions that picked the expert.</param>
    public static GenericChart ExpertSelectionShare(IReadOnlyList<string> languages,
        IReadOnlyList<IReadOnlyList<double>> share, string title = "Expert selection per language")
    {
        Shape.Require(share.Count == languages.Count, $"share has {share.Count} rows for {languages.Count} languages");
        var numExperts = share.Count == 0 ? 0 : share[0].Count;
        for (var i = 0; i < share.Count; i++)
            Shape.Require(share[i].Count == numExperts,
                $"share row '{languages[i]}' has {share[i].Count} experts, expected {numExperts}");

        var segments = Enumerable.Range(0, numExperts).Select(expert =>
            CSharpChart.StackedColumn<double, string, string>(
                values: share.Select(row => row[expert]).ToArray(), Keys: languages.ToArray(),
                Name: ExpertPalette.LabelOf(expert), MarkerColor: Color.fromHex(ExpertPalette.ColorOf(expert))));
        var chart = CSharpChart.Combine(segments);
        foreach (var trace in chart.GetTraces())
            trace.SetProperty("hovertemplate", "%{x}: %{y:.1%}<extra>%{fullData.name}</extra>");
        var width = Math.Clamp(320 + 90 * languages.Count, 560, ChartStyle.MaxWidth);
        return ChartStyle.Apply(chart, title, new ChartStyle.Axis("language"),
            new ChartStyle.Axis("share of routing decisions", ".0%", (0, Math.Max(1.0, MaxColumnSum(share)))),
            width, 460);
    }

    /// <summary>
    /// Grouped columns of the expert-0 share per language, one group member per model (e.g. "stage 1", "stage 2"):
    /// the before/after picture of language-prior routing.
    /// </summary>
    public static GenericChart Expert0ShareComparison(IReadOnlyList<string> languages,
        IReadOnlyList<NamedSeries> variants, string title = "Expert-0 share per language, before and after")
        => GroupedColumns.Create(languages, variants, title, new ChartStyle.Axis("language"),
            new ChartStyle.Axis("tokens with expert 0 in their top-K", ".0%", (0, 1)), asPercent: true);

    static double MaxColumnSum(IReadOnlyList<IReadOnlyList<double>> share) =>
        share.Count == 0 ? 0 : share.Max(row => row.Sum());

    static ColorBar ColorBarOf(string title, string tickFormat)
    {
        var colorBar = new ColorBar();
        colorBar.SetProperty("title", ChartStyle.Text(title, 13));
        colorBar.SetProperty("tickformat", tickFormat);
        return colorBar;
    }
}
