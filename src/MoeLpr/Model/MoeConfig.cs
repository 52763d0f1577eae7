using System.Text.Json;
using System.Text.Json.Serialization;

namespace MoeLpr.Model;

/// <summary>
/// The reference PEFT "MOE" <c>adapter_config.json</c>: how many experts, top-K, which layers, and the loss weights.
/// Written by upcycling and both training stages so the authors' Python stack can load the adapter.
/// </summary>
public sealed record MoeConfig
{
    [JsonPropertyName("peft_type")] public string PeftType { get; init; } = "MOE";
    [JsonPropertyName("task_type")] public string TaskType { get; init; } = "CAUSAL_LM";
    [JsonPropertyName("base_model_name_or_path")] public string? BaseModelNameOrPath { get; init; }
    /// <summary>Total experts N, including the frozen original MLP (expert 0).</summary>
    [JsonPropertyName("num_experts")] public int NumExperts { get; init; } = 4;
    [JsonPropertyName("topk")] public int TopK { get; init; } = 2;
    [JsonPropertyName("layers_to_transform")] public int[] LayersToTransform { get; init; } = [];
    [JsonPropertyName("init_moe_weights")] public bool InitMoeWeights { get; init; } = true;
    [JsonPropertyName("save_all_params")] public bool SaveAllParams { get; init; }
    [JsonPropertyName("aux_loss_coef")] public double? AuxLossCoef { get; init; }
    [JsonPropertyName("lpr_loss_coef")] public double? LprLossCoef { get; init; }

    static readonly JsonSerializerOptions WriteOptions = new() { WriteIndented = true };

    public static MoeConfig Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: adapter_config.json not found");
        MoeConfig? config;
        try { config = JsonSerializer.Deserialize<MoeConfig>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})"); }
        if (config is null) throw new InvalidDataException($"{path}: empty adapter config");
        if (config.PeftType != "MOE") throw new InvalidDataException($"{path}: peft_type is '{config.PeftType}', expected 'MOE'");
        config.Validate(path);
        return config;
    }

    public void Validate(string source)
    {
        if (NumExperts < 2) throw new InvalidDataException($"{source}: num_experts must be at least 2 (got {NumExperts})");
        if (TopK < 1 || TopK > NumExperts) throw new InvalidDataException($"{source}: topk must be in 1..num_experts (got {TopK})");
    }

    public string ToJson() => JsonSerializer.Serialize(this, WriteOptions);
}
