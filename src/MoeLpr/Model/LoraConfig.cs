using System.Text.Json;
using System.Text.Json.Serialization;

namespace MoeLpr.Model;

/// <summary>
/// The PEFT "LORA" <c>adapter_config.json</c>: rank, α and the projections wrapped (HF module names), so the adapter
/// loads in PEFT as well. The kit uses no LoRA dropout and no bias training.
/// </summary>
public sealed record LoraConfig
{
    /// <summary>Every linear layer of a LLaMA block: attention q/k/v/o and MLP gate/up/down.</summary>
    public static readonly string[] AllLinearModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
        "up_proj", "down_proj"];

    [JsonPropertyName("peft_type")] public string PeftType { get; init; } = "LORA";
    [JsonPropertyName("task_type")] public string TaskType { get; init; } = "CAUSAL_LM";
    [JsonPropertyName("base_model_name_or_path")] public string? BaseModelNameOrPath { get; init; }
    [JsonPropertyName("r")] public int Rank { get; init; } = 8;
    [JsonPropertyName("lora_alpha")] public double Alpha { get; init; } = 16;
    [JsonPropertyName("lora_dropout")] public double Dropout { get; init; }
    [JsonPropertyName("bias")] public string Bias { get; init; } = "none";
    [JsonPropertyName("target_modules")] public string[] TargetModules { get; init; } = AllLinearModules;

    static readonly JsonSerializerOptions WriteOptions = new() { WriteIndented = true };

    public static LoraConfig Load(string path)
    {
        var config = ConfigFile.Read<LoraConfig>(path, "adapter_config.json");
        if (config.PeftType != "LORA")
            throw new InvalidDataException($"{path}: peft_type is '{config.PeftType}', expected 'LORA'");
        config.Validate(path);
        return config;
    }

    public void Validate(string source)
    {
        if (Rank < 1) throw new InvalidDataException($"{source}: r must be at least 1 (got {Rank})");
        if (Dropout != 0) throw new InvalidDataException($"{source}: lora_dropout {Dropout} is not supported (only 0)");
        if (Bias != "none") throw new InvalidDataException($"{source}: bias '{Bias}' is not supported (only \"none\")");
        foreach (var module in TargetModules)
            if (!AllLinearModules.Contains(module))
                throw new InvalidDataException(
                    $"{source}: target module '{module}' is not one of {string.Join(", ", AllLinearModules)}");
    }

    public string ToJson() => JsonSerializer.Serialize(this, WriteOptions);
}
