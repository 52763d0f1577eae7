using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace MoeLpr.Training;

/// <summary>
/// <c>metrics.jsonl</c>: one <see cref="TrainingMetrics"/> JSON object per line, appended as training goes.
/// </summary>
public static class MetricsFile
{
    public const string FileName = "metrics.jsonl";

    static readonly JsonTypeInfo<TrainingMetrics> Json = TrainingJson.Default.TrainingMetrics;

    public static void Append(string path, TrainingMetrics metrics) =>
        File.AppendAllText(path, JsonSerializer.Serialize(metrics, Json) + "\n");

    public static IReadOnlyList<TrainingMetrics> Read(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: metrics file not found");
        var lines = new List<TrainingMetrics>();
        int number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try { lines.Add(JsonSerializer.Deserialize(line, Json)!); }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{number}: not a metrics line ({e.Message})");
            }
        }
        return lines;
    }

    /// <summary>
    /// Drops lines logged after <paramref name="step"/>: a resumed run logs those steps again. A killed run may have
    /// left a half-written last line; it is dropped too.
    /// </summary>
    public static void TruncateAfter(string path, int step)
    {
        if (!File.Exists(path)) return;
        var lines = File.ReadAllLines(path);
        int last = Array.FindLastIndex(lines, l => !string.IsNullOrWhiteSpace(l));
        var parsed = new List<TrainingMetrics>();
        for (int i = 0; i <= last; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            try { parsed.Add(JsonSerializer.Deserialize(lines[i], Json)!); }
            catch (JsonException) when (i == last) { } // half-written by a killed run: logged again after resuming
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{i + 1}: not a metrics line ({e.Message})");
            }
        }
        var kept = parsed.Where(m => m.Step <= step).Select(m => JsonSerializer.Serialize(m, Json) + "\n");
        string temp = path + ".tmp";
        File.WriteAllText(temp, string.Concat(kept));
        File.Move(temp, path, overwrite: true);
    }
}
