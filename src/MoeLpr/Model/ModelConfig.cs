using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace MoeLpr.Model;

/// <summary>
/// A HuggingFace <c>config.json</c> for the LLaMA family (<c>llama</c>, <c>mistral</c>, <c>qwen2</c>).
/// Property names are the HF keys so the file round-trips with <c>transformers</c>; floats are written as floats
/// (<see cref="JsonFloat"/>). It is written with the keys both transformers 4 and 5 read (<c>torch_dtype</c>,
/// <c>rope_theta</c>) and read in either form (transformers 5 writes <c>dtype</c> and <c>rope_parameters</c>).
/// </summary>
public sealed record ModelConfig
{
    public static readonly string[] SupportedModelTypes = ["llama", "mistral", "qwen2"];

    /// <summary>The fields every config.json must give, each a positive integer.</summary>
    public static readonly string[] RequiredFields = new ModelConfig().Sizes.Select(size => size.Field).ToArray();

    /// <summary>The required fields (HF keys) with this config's values.</summary>
    IEnumerable<(string Field, int Value)> Sizes =>
    [
        ("vocab_size", VocabSize), ("hidden_size", HiddenSize), ("intermediate_size", IntermediateSize),
        ("num_hidden_layers", NumHiddenLayers), ("num_attention_heads", NumAttentionHeads),
    ];

    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "llama";
    [JsonPropertyName("architectures")] public string[]? Architectures { get; init; }
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; }
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; }
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; }
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; }
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; }
    [JsonPropertyName("num_key_value_heads")] public int? NumKeyValueHeads { get; init; }
    [JsonPropertyName("head_dim")] public int? HeadDimOverride { get; init; }
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "silu";
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 2048;
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; init; } = 1e-6;
    [JsonPropertyName("rope_theta")] public double RopeTheta { get; init; } = 10000.0;
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }
    [JsonPropertyName("sliding_window"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? SlidingWindow { get; init; }
    [JsonPropertyName("use_sliding_window"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? UseSlidingWindow { get; init; }
    /// <summary>
    /// LLaMA's optional q/k/v/o bias; Qwen2 always has q/k/v bias (see <see cref="HasQkvBias"/>). Written only when
    /// true: only <c>LlamaConfig</c> declares the field.
    /// </summary>
    [JsonPropertyName("attention_bias"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool AttentionBias { get; init; }
    [JsonPropertyName("torch_dtype")] public string TorchDtype { get; init; } = "float32";
    [JsonPropertyName("bos_token_id")] public int? BosTokenId { get; init; }
    [JsonPropertyName("eos_token_id")] public int? EosTokenId { get; init; }
    [JsonPropertyName("pad_token_id")] public int? PadTokenId { get; init; }

    [JsonIgnore] public int KeyValueHeads => NumKeyValueHeads ?? NumAttentionHeads;

    /// <summary>
    /// The window the model's attention was trained with, where it has one: Mistral's <c>sliding_window</c>, Qwen2's
    /// only with <c>use_sliding_window</c>. The kit attends over the whole sequence, which is the same attention for
    /// sequences of at most this many tokens.
    /// </summary>
    [JsonIgnore] public int? AttentionWindow => ModelType == "qwen2" && UseSlidingWindow != true ? null : SlidingWindow;
    [JsonIgnore] public int HeadDim => HeadDimOverride ?? HiddenSize / NumAttentionHeads;
    [JsonIgnore] public bool HasQkvBias => ModelType == "qwen2" || AttentionBias;
    [JsonIgnore] public bool HasOutputBias => ModelType != "qwen2" && AttentionBias;

    static readonly ModelJson Json = new(JsonFloat.ConfigOptions(JsonIgnoreCondition.WhenWritingNull));

    /// <summary>Reads and validates a config.json; every problem names the file.</summary>
    public static ModelConfig Load(string path)
    {
        var root = ConfigFile.ReadObject(path, "config.json");
        if (root["model_type"] is not JsonValue type || !type.TryGetValue<string>(out var modelType))
            throw new InvalidDataException($"{path}: missing field 'model_type'");
        if (!SupportedModelTypes.Contains(modelType))
            throw new InvalidDataException(
                $"{path}: unsupported model_type '{modelType}' (supported: " +
                $"{string.Join(", ", SupportedModelTypes)})");
        ConfigFile.RequirePositiveIntegers(root, path, RequiredFields);
        return FromJson(root, path);
    }

    /// <summary>
    /// The config in <paramref name="json"/> (changed in place to the keys this record reads), validated. Accepts
    /// transformers 5's names: <c>dtype</c> for <c>torch_dtype</c> and <c>rope_parameters.rope_theta</c> for
    /// <c>rope_theta</c>; a RoPE type other than the default is refused, because the kit implements only that one.
    /// </summary>
    internal static ModelConfig FromJson(JsonObject json, string path)
    {
        if (!json.ContainsKey("torch_dtype") && json["dtype"] is JsonValue dtype
            && dtype.TryGetValue<string>(out var name))
            json["torch_dtype"] = name;
        // transformers 5 names the RoPE settings rope_parameters, 4.x rope_scaling (Llama 3.1's "llama3", ...).
        foreach (var key in new[] { "rope_parameters", "rope_scaling" })
            if (json[key] is JsonObject rope)
            {
                var ropeType = rope["rope_type"] ?? rope["type"];
                if (ropeType is JsonValue t && t.TryGetValue<string>(out var kind) && kind != "default")
                    throw new InvalidDataException(
                        $"{path}: {key}.rope_type '{kind}' is not supported (only 'default'): the rotary embedding " +
                        "would not be the model's");
                if (!json.ContainsKey("rope_theta") && rope["rope_theta"] is JsonValue theta)
                    json["rope_theta"] = theta.DeepClone();
            }
        var config = ConfigFile.Deserialize(json, path, Json.ModelConfig);
        config.Validate(path);
        return config;
    }

    public void Validate(string source)
    {
        foreach (var (field, value) in Sizes)
            if (value < 1) throw new InvalidDataException($"{source}: {field} must be at least 1 (got {value})");
        if (NumKeyValueHeads is < 1)
            throw new InvalidDataException(
                $"{source}: num_key_value_heads must be at least 1 (got {NumKeyValueHeads})");
        if (HeadDimOverride is null && HiddenSize % NumAttentionHeads != 0)
            throw new InvalidDataException(
                $"{source}: hidden_size {HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads}");
        if (HeadDim < 2 || HeadDim % 2 != 0)
            throw new InvalidDataException(
                $"{source}: the head size (head_dim, else hidden_size / num_attention_heads) must be a positive even " +
                $"number, as rotary embeddings pair its halves (got {HeadDim})");
        if (!(RopeTheta > 0) || !double.IsFinite(RopeTheta))
            throw new InvalidDataException($"{source}: rope_theta must be a positive number (got {RopeTheta})");
        if (!(RmsNormEps >= 0) || !double.IsFinite(RmsNormEps))
            throw new InvalidDataException($"{source}: rms_norm_eps must be a non-negative number (got {RmsNormEps})");
        if (NumAttentionHeads % KeyValueHeads != 0)
            throw new InvalidDataException($"{source}: num_attention_heads {NumAttentionHeads} is not a multiple of " +
                                           $"num_key_value_heads {KeyValueHeads}");
        if (HiddenAct != "silu")
            throw new InvalidDataException(
                $"{source}: hidden_act '{HiddenAct}' is not supported (LLaMA-family models use 'silu')");
    }

    /// <summary>
    /// Throws when a tokenizer produced an id the embedding table does not have (a tokenizer of another model), before
    /// the embedding lookup would fail inside libtorch.
    /// </summary>
    /// <param name="source">The tokenizer's folder, or what the ids are, for the message.</param>
    public void RequireTokenId(int maxId, string source)
    {
        if (maxId >= VocabSize)
            throw new InvalidDataException($"{source}: the tokenizer produces id {maxId}, but the model has " +
                                           $"vocab_size {VocabSize} (a tokenizer of another model?)");
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json.ModelConfig);
}
