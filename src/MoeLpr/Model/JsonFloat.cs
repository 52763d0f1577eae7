using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace MoeLpr.Model;

/// <summary>
/// Writes a double as a JSON number that Python's <c>json</c> reads back as a float: always with a decimal point or an
/// exponent (<c>0.0</c>, <c>10000.0</c>, <c>1E-06</c>). System.Text.Json writes 0.0 as <c>0</c>, which Python reads as
/// an int, and the HuggingFace config classes (strict dataclasses since transformers 5) refuse an int where they
/// declare a float ("Field 'router_aux_loss_coef' expected float, got int").
/// </summary>
public static class JsonFloat
{
    /// <summary>The shortest text that round-trips <paramref name="value"/>, ".0" added to a whole number.</summary>
    public static string Format(double value)
    {
        if (!double.IsFinite(value)) throw new ArgumentException($"{value} has no JSON number form", nameof(value));
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.AsSpan().IndexOfAny('.', 'E', 'e') >= 0 ? text : text + ".0";
    }

    /// <summary>A JSON node holding <paramref name="value"/> in float form, for a <see cref="JsonObject"/>.</summary>
    public static JsonNode Node(double value) => JsonNode.Parse(Format(value))!;

    /// <summary>Serializer options for HF/PEFT config files: indented, floats as floats, nulls written.</summary>
    public static JsonSerializerOptions ConfigOptions(JsonIgnoreCondition ignore = JsonIgnoreCondition.Never) => new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = ignore,
        Converters = { new Converter() },
    };

    /// <summary>Reads any JSON number as a double; writes it with <see cref="Format"/>.</summary>
    public sealed class Converter : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) =>
            writer.WriteRawValue(Format(value), skipInputValidation: true);
    }
}
