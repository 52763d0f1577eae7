using System.Text.Json;
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
}
