using System.Text.Json.Serialization;

namespace MoeLpr.Data;

/// <summary>Source-generated JSON metadata for the dataset registry (trim-safe, see <c>Model/ModelJson</c>).</summary>
[JsonSerializable(typeof(DatasetEntry))]
[JsonSerializable(typeof(Dictionary<string, DatasetEntry>))]
internal sealed partial class DataJson : JsonSerializerContext;
