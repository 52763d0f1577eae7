using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MoeLpr.Evaluation;

/// <summary>
/// Reads and writes multiple-choice tasks as JSONL, one item per line:
/// <c>{"id": "...", "language": "en", "context": "...", "choices": ["...", ...], "gold": 0}</c> (<c>id</c> optional).
/// </summary>
public static class MultipleChoiceTaskFile
{
    static readonly JsonSerializerOptions WriteOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static List<MultipleChoiceItem> Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: task file not found");
        var items = new List<MultipleChoiceItem>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string where = $"{path}:{lineNumber}";
            JsonElement row;
            try { row = JsonDocument.Parse(line).RootElement; }
            catch (JsonException e) { throw new InvalidDataException($"{where}: malformed JSON ({e.Message})"); }
            items.Add(Parse(row, where));
        }
        if (items.Count == 0) throw new InvalidDataException($"{path}: no items");
        return items;
    }

    static MultipleChoiceItem Parse(JsonElement row, string where)
    {
        if (row.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where}: expected a JSON object");
        string context = RequiredString(row, "context", where);
        string language = RequiredString(row, "language", where);
        if (!row.TryGetProperty("choices", out var choicesElement) || choicesElement.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{where}: \"choices\" must be an array of strings");
        var choices = choicesElement.EnumerateArray().Select(c => c.ValueKind == JsonValueKind.String
            ? c.GetString()!
            : throw new InvalidDataException($"{where}: every choice must be a string")).ToList();
        if (choices.Count < 2)
            throw new InvalidDataException($"{where}: needs at least 2 choices (got {choices.Count})");
        if (choices.Any(c => c.Length == 0)) throw new InvalidDataException($"{where}: a choice is empty");
        if (!row.TryGetProperty("gold", out var goldElement) || goldElement.ValueKind != JsonValueKind.Number ||
            !goldElement.TryGetInt32(out int gold))
            throw new InvalidDataException($"{where}: \"gold\" must be an integer index into \"choices\"");
        if (gold < 0 || gold >= choices.Count)
            throw new InvalidDataException($"{where}: gold {gold} is outside 0..{choices.Count - 1}");
        string? id = row.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String
            ? idElement.GetString()
            : null;
        return new MultipleChoiceItem(context, choices, gold, language, id);
    }

    static string RequiredString(JsonElement row, string name, string where) =>
        row.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String &&
        value.GetString()!.Length > 0
            ? value.GetString()!
            : throw new InvalidDataException($"{where}: missing or empty string \"{name}\"");

    /// <summary>
    /// Writes the items (UTF-8, non-ASCII kept readable, "\n" line ends) so the file is byte-reproducible.
    /// </summary>
    public static void Save(string path, IEnumerable<MultipleChoiceItem> items)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        using var writer = new StreamWriter(path, append: false, new System.Text.UTF8Encoding(false))
        {
            NewLine = "\n",
        };
        foreach (var item in items)
        {
            var row = new JsonObject();
            if (item.Id is not null) row["id"] = item.Id;
            row["language"] = item.Language;
            row["context"] = item.Context;
            row["choices"] = new JsonArray(item.Choices.Select(choice => (JsonNode?)choice).ToArray());
            row["gold"] = item.Gold;
            writer.WriteLine(row.ToJsonString(WriteOptions));
        }
    }
}
