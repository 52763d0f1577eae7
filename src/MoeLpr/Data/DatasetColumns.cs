using System.Text.Json.Serialization;

namespace MoeLpr.Data;

/// <summary>The <c>columns</c> object of a <c>dataset_info.json</c> entry: which JSON field holds the document.</summary>
public sealed record DatasetColumns
{
    [JsonPropertyName("prompt")] public string? Prompt { get; init; }
}
