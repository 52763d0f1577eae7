using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MoeLpr.Data;

/// <summary>Adds or replaces entries in a <c>dataset_info.json</c>, keeping every other entry as it was.</summary>
public static class DatasetInfoWriter
{
    static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Registers <paramref name="dataFile"/> under <paramref name="name"/>, with its current SHA-1 and a path
    /// relative to the json's folder.</summary>
    public static void Register(string infoPath, string name, string dataFile, string language,
        string column = "text") =>
        RegisterAll(infoPath, [(name, dataFile, language)], column);

    public static void RegisterAll(string infoPath,
        IEnumerable<(string Name, string DataFile, string Language)> datasets, string column = "text")
    {
        JsonObject root;
        try
        {
            root = File.Exists(infoPath)
                ? JsonNode.Parse(File.ReadAllText(infoPath)) as JsonObject
                    ?? throw new InvalidDataException($"{infoPath}: not a JSON object")
                : new JsonObject();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{infoPath}: not a valid dataset_info.json ({e.Message})");
        }
        string baseDirectory = Path.GetDirectoryName(Path.GetFullPath(infoPath))!;
        foreach (var (name, dataFile, language) in datasets)
        {
            var entry = new DatasetEntry
            {
                FileName = Path.GetRelativePath(baseDirectory, Path.GetFullPath(dataFile)).Replace('\\', '/'),
                FileSha1 = FileHashes.Sha1(dataFile),
                Language = language,
                Columns = new DatasetColumns { Prompt = column },
            };
            root[name] = JsonSerializer.SerializeToNode(entry, DataJson.Default.DatasetEntry);
        }
        Directory.CreateDirectory(baseDirectory);
        File.WriteAllText(infoPath, root.ToJsonString(Indented) + "\n");
    }
}
