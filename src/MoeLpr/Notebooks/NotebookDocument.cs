using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MoeLpr.Notebooks;

/// <summary>
/// A Polyglot Notebooks <c>.ipynb</c> (nbformat 4) held as its JSON tree, so that writing it back keeps every
/// field the kit does not interpret; plus which kernel each cell belongs to.
/// </summary>
public sealed class NotebookDocument
{
    static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true, IndentSize = 1, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    // Kernel names a Polyglot cell can start with as a magic line (#!csharp, #!markdown, ...).
    static readonly HashSet<string> KernelMagics = ["csharp", "fsharp", "pwsh", "javascript", "html", "markdown", "mermaid", "sql", "kql", "value", "http"];

    NotebookDocument(string path, JsonObject root) => (Path, Root) = (path, root);

    /// <summary>Where the notebook was read from (used in messages and to resolve <c>#r</c> paths).</summary>
    public string Path { get; }

    public JsonObject Root { get; }

    /// <summary>Kernel of cells that name none: the Polyglot default kernel, else C# (the kernelspec is validated to be .net-csharp).</summary>
    public string DefaultKernel => Root["metadata"]?["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"]?.GetValue<string>() ?? "csharp";

    /// <summary>Reads and validates a notebook; problems become one <see cref="InvalidDataException"/> naming the file.</summary>
    public static NotebookDocument Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: notebook not found");
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})"); }
        var problems = NotebookValidator.Validate(root);
        if (problems.Count > 0) throw new InvalidDataException($"{path}: {string.Join("; ", problems)}");
        return new NotebookDocument(path, root!.AsObject());
    }

    /// <summary>The cell's kernel: a leading <c>#!kernel</c> magic, then cell metadata, then <see cref="DefaultKernel"/>.</summary>
    public string KernelOf(JsonObject cell)
    {
        var firstLine = (SourceOf(cell).Split('\n').FirstOrDefault(l => l.Trim().Length > 0) ?? "").Trim();
        if (firstLine.StartsWith("#!", StringComparison.Ordinal) && KernelMagics.Contains(firstLine[2..])) return firstLine[2..];
        return cell["metadata"]?["polyglot_notebook"]?["kernelName"]?.GetValue<string>()
               ?? cell["metadata"]?["dotnet_interactive"]?["language"]?.GetValue<string>()
               ?? DefaultKernel;
    }

    public static string SourceOf(JsonObject cell) => NotebookText.Join(cell["source"]) ?? "";

    /// <summary>Writes the notebook as Jupyter does (one-space indent, UTF-8, trailing newline).</summary>
    public static void Save(JsonObject root, string path)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        File.WriteAllText(path, root.ToJsonString(WriteOptions) + "\n");
    }
}
