using System.Text.Json.Serialization;

namespace MoeLpr.Data;

/// <summary>One entry of <c>dataset_info.json</c> (the LLaMA-Factory format the reference uses).</summary>
public sealed record DatasetEntry
{
    public const string OldLanguage = "old";
    public const string NewLanguage = "new";

    [JsonPropertyName("file_name")] public string? FileName { get; init; }
    [JsonPropertyName("file_sha1")] public string? FileSha1 { get; init; }
    /// <summary>"old" (a language the base model already knows) or "new" (one it is being extended to).</summary>
    [JsonPropertyName("language")] public string? Language { get; init; }
    [JsonPropertyName("columns")] public DatasetColumns? Columns { get; init; }

    /// <summary>The document column: <c>columns.prompt</c>, "text" when absent (the reference's default).</summary>
    [JsonIgnore] public string TextColumn => Columns?.Prompt ?? "text";
}

/// <summary>
/// The <c>columns</c> object of a <c>dataset_info.json</c> entry: which JSON field holds the document.
/// </summary>
public sealed record DatasetColumns
{
    [JsonPropertyName("prompt")] public string? Prompt { get; init; }
}
