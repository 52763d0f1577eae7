using System.Text.Json.Serialization;

namespace MoeLpr.Model;

/// <summary>
/// Source-generated JSON metadata for the config records. A trimmed publish (the kit on a machine without .NET) has
/// no reflection-based serializer, so each folder's JSON goes through a context like this one; an instance made with
/// <see cref="JsonFloat.ConfigOptions"/> writes the HF config conventions.
/// </summary>
[JsonSerializable(typeof(ModelConfig))]
[JsonSerializable(typeof(MoeConfig))]
[JsonSerializable(typeof(LoraConfig))]
internal sealed partial class ModelJson : JsonSerializerContext;
