using System.Text.Json;

namespace MoeLpr.Tests.TestSupport;

/// <summary>
/// The JSON types the Python config classes declare for every field the kit writes, and a check of a written file
/// against them. Python's <c>json</c> reads a number without '.' or an exponent as an int, and the HuggingFace config
/// classes (strict dataclasses in transformers 5) refuse an int where they declare a float, so "float" here means a
/// JSON number written with a decimal point or an exponent.
///
/// Sources read (field annotations copied as they are):
/// - huggingface/transformers at 008e574391258935f3ecc3035c882e73bbcac419:
///   src/transformers/configuration_utils.py (PreTrainedConfig: transformers_version, architectures, dtype, whose
///   legacy name torch_dtype its __post_init__ still reads), src/transformers/modeling_rope_utils.py
///   (RopeParameters.rope_theta: float; a top-level rope_theta is the legacy form convert_rope_params_to_dict reads),
///   src/transformers/models/{llama,mistral,qwen2,mixtral}/configuration_{llama,mistral,qwen2,mixtral}.py.
///   model_type is a class attribute that to_dict writes as a string.
/// - huggingface/peft at 5d602fdbff04c33c1c4de55cda9d4ae1d7cb7e40: src/peft/config.py (PeftConfig:
///   base_model_name_or_path, revision, peft_type, task_type, inference_mode),
///   src/peft/tuners/lora/config.py (LoraConfig).
/// - zjwang21/MoE-LPR at e228c55cf4c6879809457329b4c07287bfe28481: peft/src/peft/tuners/moe/config.py (the reference
///   MoeConfig; its aux_loss_coef/lpr_loss_coef are "float = field(default=None)", so null is what None writes).
/// </summary>
internal static class DeclaredConfigTypes
{
    static readonly Dictionary<string, string> PreTrainedConfig = new()
    {
        ["model_type"] = "str",
        ["transformers_version"] = "str|None",
        ["architectures"] = "list[str]|None",
        ["dtype"] = "str|None",
        ["torch_dtype"] = "str|None",
        ["rope_theta"] = "float",
    };

    public static readonly IReadOnlyDictionary<string, string> Llama = With(PreTrainedConfig, new()
    {
        ["vocab_size"] = "int", ["hidden_size"] = "int", ["intermediate_size"] = "int", ["num_hidden_layers"] = "int",
        ["num_attention_heads"] = "int", ["num_key_value_heads"] = "int|None", ["hidden_act"] = "str",
        ["max_position_embeddings"] = "int", ["initializer_range"] = "float", ["rms_norm_eps"] = "float",
        ["use_cache"] = "bool", ["pad_token_id"] = "int|None", ["bos_token_id"] = "int|None",
        ["eos_token_id"] = "int|list[int]|None", ["pretraining_tp"] = "int|None", ["tie_word_embeddings"] = "bool",
        ["rope_parameters"] = "dict|None", ["attention_bias"] = "bool", ["attention_dropout"] = "int|float|None",
        ["mlp_bias"] = "bool", ["head_dim"] = "int|None",
    });

    public static readonly IReadOnlyDictionary<string, string> Mistral = With(PreTrainedConfig, new()
    {
        ["vocab_size"] = "int", ["hidden_size"] = "int", ["intermediate_size"] = "int", ["num_hidden_layers"] = "int",
        ["num_attention_heads"] = "int", ["num_key_value_heads"] = "int", ["head_dim"] = "int|None",
        ["hidden_act"] = "str", ["max_position_embeddings"] = "int", ["initializer_range"] = "float",
        ["rms_norm_eps"] = "float", ["use_cache"] = "bool", ["pad_token_id"] = "int|None",
        ["bos_token_id"] = "int|None", ["eos_token_id"] = "int|list[int]|None", ["tie_word_embeddings"] = "bool",
        ["rope_parameters"] = "dict|None", ["sliding_window"] = "int|None", ["attention_dropout"] = "float|int",
    });

    public static readonly IReadOnlyDictionary<string, string> Qwen2 = With(PreTrainedConfig, new()
    {
        ["vocab_size"] = "int", ["hidden_size"] = "int", ["intermediate_size"] = "int", ["num_hidden_layers"] = "int",
        ["num_attention_heads"] = "int", ["num_key_value_heads"] = "int|None", ["hidden_act"] = "str",
        ["max_position_embeddings"] = "int", ["initializer_range"] = "float", ["rms_norm_eps"] = "float",
        ["use_cache"] = "bool", ["tie_word_embeddings"] = "bool", ["rope_parameters"] = "dict|None",
        ["use_sliding_window"] = "bool", ["sliding_window"] = "int|None", ["max_window_layers"] = "int",
        ["layer_types"] = "list[str]|None", ["attention_dropout"] = "float|int", ["pad_token_id"] = "int|None",
        ["bos_token_id"] = "int|None", ["eos_token_id"] = "int|list[int]|None",
    });

    public static readonly IReadOnlyDictionary<string, string> Mixtral = With(PreTrainedConfig, new()
    {
        ["vocab_size"] = "int", ["hidden_size"] = "int", ["intermediate_size"] = "int", ["num_hidden_layers"] = "int",
        ["num_attention_heads"] = "int", ["num_key_value_heads"] = "int", ["head_dim"] = "int|None",
        ["hidden_act"] = "str", ["max_position_embeddings"] = "int", ["initializer_range"] = "float",
        ["rms_norm_eps"] = "float", ["use_cache"] = "bool", ["pad_token_id"] = "int|None",
        ["bos_token_id"] = "int|None", ["eos_token_id"] = "int|list[int]|None", ["tie_word_embeddings"] = "bool",
        ["sliding_window"] = "int|None", ["attention_dropout"] = "float|int", ["num_experts_per_tok"] = "int",
        ["num_local_experts"] = "int", ["output_router_logits"] = "bool", ["router_aux_loss_coef"] = "float",
        ["router_jitter_noise"] = "float", ["rope_parameters"] = "dict|None",
    });

    static readonly Dictionary<string, string> PeftConfig = new()
    {
        ["base_model_name_or_path"] = "str|None", ["revision"] = "str|None", ["peft_type"] = "str",
        ["task_type"] = "str|None", ["inference_mode"] = "bool",
    };

    public static readonly IReadOnlyDictionary<string, string> PeftLora = With(PeftConfig, new()
    {
        ["r"] = "int", ["target_modules"] = "list[str]|str|None", ["exclude_modules"] = "list[str]|str|None",
        ["lora_alpha"] = "int", ["lora_dropout"] = "float", ["fan_in_fan_out"] = "bool", ["bias"] = "str",
        ["use_rslora"] = "bool", ["modules_to_save"] = "list[str]|None", ["layers_to_transform"] = "list[int]|int|None",
        ["use_dora"] = "bool",
    });

    public static readonly IReadOnlyDictionary<string, string> ReferenceMoe = With(PeftConfig, new()
    {
        ["init_moe_weights"] = "bool", ["num_experts"] = "int", ["topk"] = "int",
        ["layers_to_transform"] = "list[int]|int|None", ["save_all_params"] = "bool", ["aux_loss_coef"] = "float|None",
        ["lpr_loss_coef"] = "float|None",
    });

    /// <summary>The table of the HF config class for a <c>model_type</c>.</summary>
    public static IReadOnlyDictionary<string, string> ForModelType(string modelType) => modelType switch
    {
        "llama" => Llama,
        "mistral" => Mistral,
        "qwen2" => Qwen2,
        "mixtral" => Mixtral,
        _ => throw new ArgumentException($"no table for model_type '{modelType}'"),
    };

    /// <summary>
    /// Every field of the JSON object in <paramref name="path"/> is declared in <paramref name="table"/> and has one of
    /// the declared types; the failures name the file, the field, the declared type and the written text.
    /// </summary>
    public static void AssertFollows(string path, IReadOnlyDictionary<string, string> table)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var problems = new List<string>();
        foreach (var field in doc.RootElement.EnumerateObject())
        {
            if (!table.TryGetValue(field.Name, out var declared))
                problems.Add($"'{field.Name}' is not a field of the config class");
            else if (!declared.Split('|').Any(type => Matches(field.Value, type)))
                problems.Add($"'{field.Name}' is declared {declared} but written {field.Value.GetRawText()}");
        }
        Assert.True(problems.Count == 0, $"{path}: " + string.Join("; ", problems));
    }

    static bool Matches(JsonElement value, string type) => type switch
    {
        "None" => value.ValueKind == JsonValueKind.Null,
        "bool" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "str" => value.ValueKind == JsonValueKind.String,
        "int" => value.ValueKind == JsonValueKind.Number && !IsFloatText(value.GetRawText()),
        "float" => value.ValueKind == JsonValueKind.Number && IsFloatText(value.GetRawText()),
        "dict" => value.ValueKind == JsonValueKind.Object,
        "list[str]" => value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(e => Matches(e, "str")),
        "list[int]" => value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(e => Matches(e, "int")),
        _ => throw new ArgumentException($"unknown declared type '{type}'"),
    };

    /// <summary>What Python's json reads as a float: a number with a fraction or an exponent.</summary>
    static bool IsFloatText(string raw) => raw.IndexOfAny(['.', 'e', 'E']) >= 0;

    static Dictionary<string, string> With(Dictionary<string, string> common, Dictionary<string, string> own)
    {
        var all = new Dictionary<string, string>(common);
        foreach (var (key, type) in own) all[key] = type;
        return all;
    }
}
