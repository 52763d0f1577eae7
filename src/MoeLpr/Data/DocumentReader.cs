using System.Text;
using System.Text.Json;

namespace MoeLpr.Data;

/// <summary>
/// Reads documents from <c>.jsonl</c> (one JSON object per line) or <c>.json</c> (an array of objects) files, taking
/// the string in <paramref name="column"/> of each object. Problems are reported as <c>file:line: problem</c>.
/// </summary>
public static class DocumentReader
{
    /// <summary>UTF-8 that throws on invalid bytes, where the default replaces them with U+FFFD unnoticed.</summary>
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A document count to take, <paramref name="option"/> on the command line, is 0 or more.</summary>
    public static void RequireMaxSamples(int? maxSamples, string option = "--max-samples")
    {
        if (maxSamples is < 0)
            throw new ArgumentOutOfRangeException(null,
                $"max samples ({option}) cannot be negative (got {maxSamples})");
    }

    /// <summary>The first <paramref name="maxSamples"/> documents (all when null), in file order: the reference takes
    /// <c>select(range(max_samples))</c> without shuffling.</summary>
    public static List<string> Read(string path, string column, int? maxSamples = null)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: file not found");
        RequireMaxSamples(maxSamples);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".jsonl" => ReadJsonLines(path, column, maxSamples),
            ".json" => ReadJsonArray(path, column, maxSamples),
            var other => throw new InvalidDataException(
                $"{path}: unsupported dataset file type '{other}' (expected .jsonl or .json)"),
        };
    }

    static List<string> ReadJsonLines(string path, string column, int? maxSamples)
    {
        var documents = new List<string>();
        int lineNumber = 0;
        try
        {
            foreach (string line in File.ReadLines(path, StrictUtf8))
            {
                lineNumber++;
                if (documents.Count == maxSamples) break;
                if (string.IsNullOrWhiteSpace(line)) continue;
                JsonElement row;
                try { row = JsonDocument.Parse(line).RootElement; }
                catch (JsonException e)
                {
                    throw new InvalidDataException(
                        $"{path}:{lineNumber}: malformed JSON ({FirstSentence(e.Message)})");
                }
                documents.Add(TextOf(row, column, $"{path}:{lineNumber}"));
            }
        }
        catch (DecoderFallbackException)
        {
            // The reader decodes ahead of the lines it has returned: the bad bytes lie after this line, not on it.
            throw new InvalidDataException($"{path}: not valid UTF-8 after line {lineNumber}");
        }
        return documents;
    }

    static List<string> ReadJsonArray(string path, string column, int? maxSamples)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(File.ReadAllText(path, StrictUtf8)); }
        catch (DecoderFallbackException) { throw new InvalidDataException($"{path}: not valid UTF-8"); }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1;
            throw new InvalidDataException($"{path}:{line}: malformed JSON ({FirstSentence(e.Message)})");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException(
                    $"{path}: expected a JSON array of objects, found {document.RootElement.ValueKind}");
            var documents = new List<string>();
            int index = 0;
            foreach (var row in document.RootElement.EnumerateArray())
            {
                if (documents.Count == maxSamples) break;
                documents.Add(TextOf(row, column, $"{path}: item {index}"));
                index++;
            }
            return documents;
        }
    }

    static string TextOf(JsonElement row, string column, string where)
    {
        if (row.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{where}: expected a JSON object, found {row.ValueKind}");
        if (!row.TryGetProperty(column, out var value))
            throw new InvalidDataException($"{where}: no \"{column}\" field");
        if (value.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"{where}: \"{column}\" is {value.ValueKind}, expected a string");
        return value.GetString()!;
    }

    static string FirstSentence(string message)
    {
        int cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut < 0 ? message.TrimEnd('.') : message[..cut];
    }
}
