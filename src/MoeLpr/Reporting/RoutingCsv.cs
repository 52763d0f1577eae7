using MoeLpr.Evaluation;

namespace MoeLpr.Reporting;

/// <summary>Routing statistics as the two CSV files <c>moelpr routes</c> and the demo write.</summary>
public static class RoutingCsv
{
    public const string ExpertsFile = "routing_experts.csv";
    public const string LayersFile = "routing_layers.csv";

    /// <summary>
    /// Writes <see cref="ExpertsFile"/> (language × layer × expert) and <see cref="LayersFile"/> (language × layer).
    /// </summary>
    public static void Write(RoutingStatistics statistics, string directory)
    {
        DataFrameExport.WriteCsv(statistics.ExpertFrame(), Path.Combine(directory, ExpertsFile));
        DataFrameExport.WriteCsv(statistics.LayerFrame(), Path.Combine(directory, LayersFile));
    }
}
