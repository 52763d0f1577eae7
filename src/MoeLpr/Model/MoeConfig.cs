using System.Text.Json;
using System.Text.Json.Serialization;

namespace MoeLpr.Model;

/// <summary>
/// The reference PEFT "MOE" <c>adapter_config.json</c>: how many experts, top-K, which layers, and the loss weights.
/// Written by upcycling and both training stages so the authors' Python stack can load the adapter.
/// </summary>
public sealed record MoeConfig
{
    /// <summary>The reference's stage-1 load-balancing weight (<c>scripts/stage1.sh</c>).</summary>
    public const double ReferenceAuxLossCoef = 0.01;
    /// <summary>The reference's stage-2 language-prior weight (<c>scripts/stage2.sh</c>).</summary>
    public const double ReferenceLprLossCoef = 0.1;

    /// <summary>The reference's PEFT fork registers MoE-LPR's tuner under this <c>peft_type</c>.</summary>
    public const string PeftTypeName = "MOE";

    [JsonPropertyName("peft_type")] public string PeftType { get; init; } = PeftTypeName;
    [JsonPropertyName("task_type")] public string TaskType { get; init; } = "CAUSAL_LM";
    [JsonPropertyName("base_model_name_or_path")] public string? BaseModelNameOrPath { get; init; }
    /// <summary>Total experts N, including the frozen original MLP (expert 0).</summary>
    [JsonPropertyName("num_experts")] public int NumExperts { get; init; } = 4;
    [JsonPropertyName("topk")] public int TopK { get; init; } = 2;
    [JsonPropertyName("layers_to_transform")] public int[] LayersToTransform { get; init; } = [];
    [JsonPropertyName("init_moe_weights")] public bool InitMoeWeights { get; init; } = true;
    [JsonPropertyName("save_all_params")] public bool SaveAllParams { get; init; }
    /// <summary>Stage 1's balance-loss weight; null outside stage 1.</summary>
    [JsonPropertyName("aux_loss_coef")] public double? AuxLossCoef { get; init; }
    /// <summary>Stage 2's LPR-loss weight; null outside stage 2.</summary>
    [JsonPropertyName("lpr_loss_coef")] public double? LprLossCoef { get; init; }

    static readonly ModelJson Json = new(JsonFloat.ConfigOptions());

    public static MoeConfig Load(string path)
    {
        var config = ConfigFile.Read(path, "adapter_config.json", Json.MoeConfig);
        if (config.PeftType != PeftTypeName)
            throw new InvalidDataException($"{path}: peft_type is '{config.PeftType}', expected 'MOE'");
        config.Validate(path);
        return config;
    }

    public void Validate(string source)
    {
        if (NumExperts < 2)
            throw new InvalidDataException($"{source}: num_experts must be at least 2 (got {NumExperts})");
        if (TopK < 1 || TopK > NumExperts)
            throw new InvalidDataException($"{source}: topk must be in 1..num_experts (got {TopK})");
        RequireLossWeight(AuxLossCoef, $"{source}: aux_loss_coef");
        RequireLossWeight(LprLossCoef, $"{source}: lpr_loss_coef");
    }

    /// <summary>
    /// A loss weight is 0 or more: a negative balance weight rewards imbalance, a negative LPR weight rewards sending
    /// old-language tokens away from the frozen expert.
    /// </summary>
    public static void RequireLossWeight(double? weight, string name)
    {
        if (weight is { } value && !(value >= 0 && double.IsFinite(value)))
            throw new InvalidDataException($"{name} must be a finite number of 0 or more (got {value})");
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json.MoeConfig);
}
