using Microsoft.Data.Analysis;
using MoeLpr.Evaluation;

namespace MoeLpr.Reporting;

/// <summary>Routing statistics as the two CSV files <c>moelpr routes</c> and the demo write.</summary>
public static class RoutingCsv
{
    public const string ExpertsFile = "routing_experts.csv";
    public const string LayersFile = "routing_layers.csv";

    /// <summary>
    /// Writes <see cref="ExpertsFile"/> (label × layer × expert) and <see cref="LayersFile"/> (label × layer), the
    /// label column named <paramref name="labelColumn"/>: what the statistics were counted under (languages in the
    /// demo, dataset names in <c>moelpr routes</c>). <paramref name="groupOf"/>, when given, adds each label's
    /// "old"/"new" group beside it.
    /// </summary>
    public static void Write(RoutingStatistics statistics, string directory, string labelColumn = "language",
        Func<string, string>? groupOf = null)
    {
        foreach (var (frame, file) in
                 new[] { (statistics.ExpertFrame(), ExpertsFile), (statistics.LayerFrame(), LayersFile) })
        {
            if (groupOf is not null)
                frame.Columns.Insert(1, new StringDataFrameColumn("group",
                    frame.Columns["language"].Cast<string>().Select(groupOf)));
            if (labelColumn != "language") frame.Columns.RenameColumn("language", labelColumn);
            DataFrameExport.WriteCsv(frame, Path.Combine(directory, file));
        }
    }
}
