using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace MoeLpr.Model;

/// <summary>
/// Reads the kit's JSON config files (config.json, adapter_config.json): a missing file, malformed JSON, anything but
/// an object, or a field of the wrong type is one error naming the file.
/// </summary>
internal static class ConfigFile
{
    /// <param name="what">What the file is, for the messages (e.g. "adapter_config.json").</param>
    public static JsonObject ReadObject(string path, string what)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: {what} not found");
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})"); }
        return root as JsonObject ?? throw new InvalidDataException($"{path}: {what} is not a JSON object");
    }

    /// <summary><see cref="ReadObject"/> as a record.</summary>
    public static T Read<T>(string path, string what, JsonTypeInfo<T> type) where T : class =>
        Deserialize(ReadObject(path, what), path, type);

    /// <summary>The record <paramref name="json"/> holds; a field of the wrong type is one error naming the file.
    /// </summary>
    public static T Deserialize<T>(JsonObject json, string path, JsonTypeInfo<T> type) where T : class
    {
        try { return json.Deserialize(type)!; }
        catch (JsonException e) { throw new InvalidDataException($"{path}: a field has the wrong type ({e.Message})"); }
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
