using System.Text.Json.Nodes;

namespace MoeLpr.Notebooks;

/// <summary>nbformat's multi-line strings: a string, or an array of lines that keep their "\n" (the last may lack it).</summary>
internal static class NotebookText
{
    internal static JsonArray ToLines(string text)
    {
        var lines = new JsonArray();
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            var next = end < 0 ? text.Length : end + 1;
            lines.Add(text[start..next]);
            start = next;
        }
        return lines;
    }

    /// <summary>Joins a <c>source</c>/<c>text</c> field; null for anything that is neither a string nor an array of strings.</summary>
    internal static string? Join(JsonNode? node) => node switch
    {
        JsonValue value when value.TryGetValue(out string? text) => text,
        JsonArray array when array.All(l => l is JsonValue v && v.TryGetValue(out string? _)) => string.Concat(array.Select(l => l!.GetValue<string>())),
        _ => null,
    };
}
