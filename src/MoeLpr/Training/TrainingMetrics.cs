using System.Text.Json;
using System.Text.Json.Serialization;

namespace MoeLpr.Training;

/// <summary>
/// One line of <c>metrics.jsonl</c>, written every logging step. Loss values are means over the micro-batches since
/// the previous line; <see cref="LossParts"/> are the policy's named parts, unscaled (before their coefficients), each
/// a mean over its items in that window (<c>lpr_loss</c>: the old-language (layer, token) pairs; absent without any).
/// Routing statistics are token-weighted over the same window: <see cref="ExpertProbability"/> is the reference's
/// <c>scores_per_expert</c> (mean router probability per expert over layers and tokens); per MoE layer,
/// <see cref="OldLanguageExpert0Probability"/> is the mean p_0 of old-language tokens (the reference's
/// <c>old_lang_expert0_score</c>) and <see cref="OldLanguageExpert0Selected"/> the share of them that have expert 0 in
/// their top-K. Fields that do not apply are absent.
/// </summary>
[JsonConverter(typeof(TrainingMetricsConverter))]
public sealed record TrainingMetrics
{
    public int Step { get; init; }
    public double Epoch { get; init; }
    public double Loss { get; init; }
    public double LmLoss { get; init; }
    /// <summary>
    /// Named loss parts, each a field of its own after <c>lm_loss</c> (stage 1: <c>aux_loss</c>, stage 2:
    /// <c>lpr_loss</c>).
    /// </summary>
    public IReadOnlyDictionary<string, double> LossParts { get; init; } = new Dictionary<string, double>();
    public double LearningRate { get; init; }
    public double GradNorm { get; init; }
    public double TokensPerSecond { get; init; }
    public double ElapsedSeconds { get; init; }
    public double[]? ExpertProbability { get; init; }
    public double[]? OldLanguageExpert0Probability { get; init; }
    public double[]? OldLanguageExpert0Selected { get; init; }

    /// <summary>A named loss part, or null when this line has none of that name.</summary>
    public double? LossPart(string name) => LossParts.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// The JSON form of a metrics line: fixed fields under the reference's names, the loss parts in between (any other
/// numeric field read back is taken as a loss part), NaN and ±Infinity as named literals (a diverging run logs them).
/// </summary>
internal sealed class TrainingMetricsConverter : JsonConverter<TrainingMetrics>
{
    public override TrainingMetrics Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var line = JsonElement.ParseValue(ref reader);
        if (line.ValueKind != JsonValueKind.Object) throw new JsonException("a metrics line must be a JSON object");
        double Number(string name) => line.TryGetProperty(name, out var v) ? ReadDouble(v) : 0;
        double[]? Numbers(string name) =>
            line.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
                ? v.EnumerateArray().Select(ReadDouble).ToArray()
                : null;
        var parts = line.EnumerateObject()
            .Where(p => !Key.All.Contains(p.Name)
                        && p.Value.ValueKind is JsonValueKind.Number or JsonValueKind.String)
            .ToDictionary(p => p.Name, p => ReadDouble(p.Value));
        return new TrainingMetrics
        {
            Step = (int)Number(Key.Step), Epoch = Number(Key.Epoch), Loss = Number(Key.Loss),
            LmLoss = Number(Key.LmLoss), LossParts = parts, LearningRate = Number(Key.LearningRate),
            GradNorm = Number(Key.GradNorm), TokensPerSecond = Number(Key.TokensPerSecond),
            ElapsedSeconds = Number(Key.ElapsedSeconds),
            ExpertProbability = Numbers(Key.ExpertProbability),
            OldLanguageExpert0Probability = Numbers(Key.OldLanguageExpert0Probability),
            OldLanguageExpert0Selected = Numbers(Key.OldLanguageExpert0Selected),
        };
    }

    public override void Write(Utf8JsonWriter writer, TrainingMetrics value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteNumber(Key.Step, value.Step);
        WriteDouble(writer, Key.Epoch, value.Epoch);
        WriteDouble(writer, Key.Loss, value.Loss);
        WriteDouble(writer, Key.LmLoss, value.LmLoss);
        foreach (var (name, part) in value.LossParts) WriteDouble(writer, name, part);
        WriteDouble(writer, Key.LearningRate, value.LearningRate);
        WriteDouble(writer, Key.GradNorm, value.GradNorm);
        WriteDouble(writer, Key.TokensPerSecond, value.TokensPerSecond);
        WriteDouble(writer, Key.ElapsedSeconds, value.ElapsedSeconds);
        WriteArray(writer, Key.ExpertProbability, value.ExpertProbability);
        WriteArray(writer, Key.OldLanguageExpert0Probability, value.OldLanguageExpert0Probability);
        WriteArray(writer, Key.OldLanguageExpert0Selected, value.OldLanguageExpert0Selected);
        writer.WriteEndObject();
    }

    /// <summary>The fixed fields' names (the reference's); every other field of a line is a loss part.</summary>
    static class Key
    {
        public const string Step = "step", Epoch = "epoch", Loss = "loss", LmLoss = "lm_loss", LearningRate = "lr",
            GradNorm = "grad_norm", TokensPerSecond = "tokens_per_s", ElapsedSeconds = "elapsed_s",
            ExpertProbability = "expert_prob", OldLanguageExpert0Probability = "old_lang_expert0_prob",
            OldLanguageExpert0Selected = "old_lang_expert0_selected";

        public static readonly HashSet<string> All =
        [
            Step, Epoch, Loss, LmLoss, LearningRate, GradNorm, TokensPerSecond, ElapsedSeconds, ExpertProbability,
            OldLanguageExpert0Probability, OldLanguageExpert0Selected,
        ];
    }

    static double ReadDouble(JsonElement value) => value.ValueKind == JsonValueKind.String
        ? value.GetString() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            var text => throw new JsonException($"'{text}' is not a number"),
        }
        : value.GetDouble();

    static void WriteDouble(Utf8JsonWriter writer, string name, double value)
    {
        writer.WritePropertyName(name);
        WriteDouble(writer, value);
    }

    static void WriteDouble(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
    }

    static void WriteArray(Utf8JsonWriter writer, string name, double[]? values)
    {
        if (values is null) return;
        writer.WriteStartArray(name);
        foreach (var value in values) WriteDouble(writer, value);
        writer.WriteEndArray();
    }
}
