using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace MoeLpr.Model;

/// <summary>Reads a JSON file into a record; a missing, empty or malformed file is one error naming it.</summary>
internal static class ConfigFile
{
    /// <param name="what">What the file is, for the messages (e.g. "adapter_config.json").</param>
    public static T Read<T>(string path, string what, JsonTypeInfo<T> type) where T : class
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: {what} not found");
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), type)
                ?? throw new InvalidDataException($"{path}: empty {what}");
        }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})"); }
    }

    /// <summary>
    /// Checks that each of <paramref name="fields"/> is present in <paramref name="json"/> as a positive integer: one
    /// error naming the file and the field, and saying whether it is missing or what it holds instead.
    /// </summary>
    public static void RequirePositiveIntegers(JsonObject json, string path, IEnumerable<string> fields)
    {
        foreach (var field in fields)
        {
            var node = json[field];
            if (node is null) throw new InvalidDataException($"{path}: missing field '{field}'");
            if (node is not JsonValue value || !value.TryGetValue<int>(out var number) || number <= 0)
                throw new InvalidDataException(
                    $"{path}: field '{field}' must be a positive integer, not {node.ToJsonString()}");
        }
    }
}
