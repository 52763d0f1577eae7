using System.Text.Json;

namespace MoeLpr.Reporting;

/// <summary>
/// Training metrics read from a JSONL log: one JSON object per line with a step number (<c>step</c>, or
/// LLaMA-Factory's <c>current_steps</c>, or <c>global_step</c>) and any numeric metrics (<c>loss</c>, <c>lm_loss</c>,
/// <c>aux_loss</c>, <c>lpr_loss</c>, <c>learning_rate</c>, ...). A line may carry only some metrics (e.g. evaluation
/// lines).
/// </summary>
public sealed class TrainingMetricsLog
{
    static readonly string[] StepKeys = ["step", "current_steps", "global_step"];
    // Numeric bookkeeping fields that are not curves worth plotting.
    static readonly HashSet<string> NotMetrics = ["total_steps", "percentage"];

    readonly Dictionary<string, List<(double Step, double Value)>> _series;

    TrainingMetricsLog(Dictionary<string, List<(double Step, double Value)>> series) => _series = series;

    /// <summary>Metric names in order of first appearance.</summary>
    public IReadOnlyList<string> MetricNames => _series.Keys.ToList();

    /// <summary>The (step, value) points of one metric, in log order.</summary>
    public IReadOnlyList<(double Step, double Value)> Points(string metric) =>
        _series.TryGetValue(metric, out var points) ? points
            : throw new KeyNotFoundException(
                $"metric '{metric}' is not in the log (has: {string.Join(", ", _series.Keys)})");

    public static TrainingMetricsLog Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: metrics log not found");
        return Parse(File.ReadLines(path), path);
    }

    /// <summary>Parses JSONL lines; <paramref name="source"/> names the input in error messages.</summary>
    public static TrainingMetricsLog Parse(IEnumerable<string> lines, string source)
    {
        var series = new Dictionary<string, List<(double, double)>>();
        var lineNumber = 0;
        foreach (var line in lines)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement root;
            try { root = JsonDocument.Parse(line).RootElement; }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{source}:{lineNumber}: not valid JSON ({e.Message})");
            }
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{source}:{lineNumber}: expected a JSON object");

            var step = StepKeys.Select(k => root.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.Number
                                                ? v.GetDouble() : (double?)null)
                               .FirstOrDefault(v => v.HasValue)
                       ?? throw new InvalidDataException(
                           $"{source}:{lineNumber}: no numeric step ({string.Join(" / ", StepKeys)})");
            foreach (var property in root.EnumerateObject())
            {
                if (property.Value.ValueKind != JsonValueKind.Number || StepKeys.Contains(property.Name) ||
                    NotMetrics.Contains(property.Name)) continue;
                if (!series.TryGetValue(property.Name, out var points)) series[property.Name] = points = [];
                points.Add((step, property.Value.GetDouble()));
            }
        }
        return new TrainingMetricsLog(series);
    }
}
