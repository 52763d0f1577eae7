using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MoeLpr.Tests.Notebooks;

/// <summary>
/// Checks the <c>.ipynb</c> shape the kit's notebooks must have to open in Jupyter and VS Code: nbformat 4, the
/// <c>.net-csharp</c> kernelspec, well-formed cells, and (from nbformat 4.5) a unique id on every cell.
/// </summary>
public static partial class NotebookValidator
{
    static readonly HashSet<string> CellTypes = ["code", "markdown", "raw"];

    /// <summary>
    /// Every problem found, each naming the cell (1-based) it concerns; empty when the notebook is valid.
    /// </summary>
    public static IReadOnlyList<string> Validate(JsonNode? root)
    {
        var problems = new List<string>();
        if (root is not JsonObject notebook) return ["the notebook is not a JSON object"];

        if (Int(notebook["nbformat"]) != 4)
            problems.Add($"nbformat must be 4 (found {notebook["nbformat"]?.ToJsonString() ?? "none"})");
        var minor = Int(notebook["nbformat_minor"]);
        if (minor is null) problems.Add("nbformat_minor must be an integer");
        var kernelspec = notebook["metadata"]?["kernelspec"];
        if (Str(kernelspec?["name"]) != ".net-csharp")
            problems.Add($"metadata.kernelspec.name must be \".net-csharp\" (found " +
                         $"{kernelspec?["name"]?.ToJsonString() ?? "none"})");

        if (notebook["cells"] is not JsonArray cells) return [.. problems, "cells must be an array"];
        var ids = new HashSet<string>();
        for (var i = 0; i < cells.Count; i++)
        {
            var where = $"cell {i + 1}";
            if (cells[i] is not JsonObject cell) { problems.Add($"{where} is not an object"); continue; }
            var type = Str(cell["cell_type"]);
            if (type is null || !CellTypes.Contains(type))
                problems.Add($"{where}: cell_type must be code, " +
                             $"markdown or raw (found {cell["cell_type"]?.ToJsonString() ?? "none"})");
            if (Join(cell["source"]) is null) problems.Add($"{where}: source must be a string or an array of strings");
            if (cell["metadata"] is not JsonObject) problems.Add($"{where}: metadata must be an object");
            if (type == "code")
            {
                if (cell["outputs"] is not JsonArray) problems.Add($"{where}: a code cell needs an outputs array");
                if (!cell.ContainsKey("execution_count") ||
                    (cell["execution_count"] is not null && Int(cell["execution_count"]) is null))
                    problems.Add($"{where}: a code cell needs execution_count (null or an integer)");
            }

            var id = Str(cell["id"]);
            if (id is null)
            {
                if (minor >= 5) problems.Add($"{where}: nbformat 4.{minor} requires a cell id");
            }
            else if (!CellId().IsMatch(id))
                problems.Add($"{where}: id \"{id}\" must be 1-64 letters, digits, '-' or '_'");
            else if (!ids.Add(id)) problems.Add($"{where}: id \"{id}\" is used by an earlier cell");
        }
        return problems;
    }

    /// <summary>
    /// Validates a file; problems (or unreadable JSON) throw one <see cref="InvalidDataException"/> naming it.
    /// </summary>
    public static void ValidateFile(string path)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})");
        }
        var problems = Validate(root);
        if (problems.Count > 0) throw new InvalidDataException($"{path}: {string.Join("; ", problems)}");
    }

    // nbformat's multi-line strings: a string, or an array of lines; null for anything else.
    static string? Join(JsonNode? node) => node switch
    {
        JsonValue value when value.TryGetValue(out string? text) => text,
        JsonArray array when array.All(l => l is JsonValue v && v.TryGetValue(out string? _)) =>
            string.Concat(array.Select(l => l!.GetValue<string>())),
        _ => null,
    };

    static int? Int(JsonNode? node) => node is JsonValue value && value.TryGetValue(out int number) ? number : null;

    static string? Str(JsonNode? node) => node is JsonValue value && value.TryGetValue(out string? text) ? text : null;

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex CellId();
}
