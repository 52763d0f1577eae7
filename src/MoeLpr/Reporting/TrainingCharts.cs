using Plotly.NET;
using Plotly.NET.CSharp;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace MoeLpr.Reporting;

/// <summary>
/// Training curves (loss, LM loss, balance and LPR losses, learning rate) against the optimiser step.
/// </summary>
public static class TrainingCharts
{
    /// <summary>The losses a MoE-LPR run logs, in the order they are worth reading.</summary>
    public static readonly IReadOnlyList<string> DefaultMetrics = ["loss", "lm_loss", "aux_loss", "lpr_loss"];

    /// <summary>One line chart of one metric.</summary>
    public static GenericChart MetricCurve(TrainingMetricsLog log, string metric, string? title = null)
    {
        var chart = Line(log, metric, LineColor(0));
        return ChartStyle.Apply(chart, title ?? metric, new ChartStyle.Axis("step"),
            new ChartStyle.Axis(UnitOf(metric)), 640, 380, showLegend: false);
    }

    /// <summary>
    /// A grid of line charts, one subplot per metric (two columns). By default the <see cref="DefaultMetrics"/>
    /// present in the log; pass <paramref name="metrics"/> to choose (every name must be in the log).
    /// </summary>
    public static GenericChart Curves(TrainingMetricsLog log, IReadOnlyList<string>? metrics = null,
        string title = "Training curves")
    {
        var chosen = metrics ?? DefaultMetrics.Where(log.MetricNames.Contains).ToList();
        if (chosen.Count == 0) chosen = log.MetricNames;
        Shape.Require(chosen.Count > 0, "the metrics log holds no metric to plot");

        var columns = chosen.Count == 1 ? 1 : 2;
        var rows = (chosen.Count + columns - 1) / columns;
        var subplots = chosen.Select((metric, i) => Line(log, metric, LineColor(i))).ToArray();
        var grid = CSharpChart.Grid(subplots, nRows: rows, nCols: columns, SubPlotTitles: chosen.ToArray(),
            XGap: 0.12, YGap: 0.3);
        for (var i = 0; i < chosen.Count; i++)
        {
            grid = Plotly.NET.Chart.withXAxis(ChartStyle.LinearAxisOf(new ChartStyle.Axis("step")),
                Microsoft.FSharp.Core.FSharpOption<StyleParam.SubPlotId>.Some(StyleParam.SubPlotId.NewXAxis(i + 1)))
                .Invoke(grid);
            grid = Plotly.NET.Chart.withYAxis(ChartStyle.LinearAxisOf(new ChartStyle.Axis(UnitOf(chosen[i]))),
                Microsoft.FSharp.Core.FSharpOption<StyleParam.SubPlotId>.Some(StyleParam.SubPlotId.NewYAxis(i + 1)))
                .Invoke(grid);
        }
        return ChartStyle.ApplyFrame(grid, title, columns == 1 ? 680 : 1000, 120 + 300 * rows, showLegend: false);
    }

    /// <summary>What a metric's y axis measures: a logged point is the mean over its logging window.</summary>
    static string UnitOf(string metric) => metric switch
    {
        "loss" or "lm_loss" => "nats per token",
        "aux_loss" => "balance loss (K when even)",
        "lpr_loss" => "LPR loss per old-language token",
        "lr" or "learning_rate" => "learning rate",
        _ => metric,
    };

    static GenericChart Line(TrainingMetricsLog log, string metric, string color)
    {
        var points = log.Points(metric);
        return CSharpChart.Line<double, double, string>(
            x: points.Select(p => p.Step).ToArray(), y: points.Select(p => p.Value).ToArray(), Name: metric,
            LineColor: Color.fromHex(color), LineWidth: 2.0);
    }

    // Metrics borrow the new experts' qualitative colours (not expert 0's slate) so the subplots are told apart.
    static string LineColor(int index) => ExpertPalette.ColorOf(index % 12 + 1);
}
