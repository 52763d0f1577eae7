using System.Text.Json;
using System.Text.Json.Serialization;

namespace MoeLpr.Model;

/// <summary>
/// The PEFT "LORA" <c>adapter_config.json</c>: rank, α, dropout and the projections wrapped (HF module names), with
/// PEFT's field types (<c>r</c> and <c>lora_alpha</c> ints, <c>lora_dropout</c> a float), so the adapter loads in PEFT
/// as well. No bias training.
/// </summary>
public sealed record LoraConfig
{
    /// <summary>Every linear layer of a LLaMA block: attention q/k/v/o and MLP gate/up/down.</summary>
    public static readonly string[] AllLinearModules = [.. LlamaAttention.ProjectionNames, .. LlamaMLP.ProjectionNames];

    /// <summary>PEFT's <c>peft_type</c> for LoRA.</summary>
    public const string PeftTypeName = "LORA";

    [JsonPropertyName("peft_type")] public string PeftType { get; init; } = PeftTypeName;
    [JsonPropertyName("task_type")] public string TaskType { get; init; } = "CAUSAL_LM";
    [JsonPropertyName("base_model_name_or_path")] public string? BaseModelNameOrPath { get; init; }
    [JsonPropertyName("r")] public int Rank { get; init; } = 8;
    [JsonPropertyName("lora_alpha")] public int Alpha { get; init; } = 16;
    /// <summary>Dropout on the LoRA branch's input while training (PEFT's <c>lora_dropout</c>); 0 = none.</summary>
    [JsonPropertyName("lora_dropout")] public double Dropout { get; init; }
    [JsonPropertyName("bias")] public string Bias { get; init; } = "none";
    [JsonPropertyName("target_modules")] public string[] TargetModules { get; init; } = AllLinearModules;
    /// <summary>PEFT's α/√r scaling; the kit scales by α/r, so only false is accepted.</summary>
    [JsonPropertyName("use_rslora")] public bool UseRsLora { get; init; }
    /// <summary>PEFT's weight-decomposed LoRA; not implemented, so only false is accepted.</summary>
    [JsonPropertyName("use_dora")] public bool UseDora { get; init; }
    [JsonPropertyName("fan_in_fan_out")] public bool FanInFanOut { get; init; }

    static readonly ModelJson Json = new(JsonFloat.ConfigOptions());

    public static LoraConfig Load(string path)
    {
        var config = ConfigFile.Read(path, "adapter_config.json", Json.LoraConfig);
        if (config.PeftType != PeftTypeName)
            throw new InvalidDataException($"{path}: peft_type is '{config.PeftType}', expected 'LORA'");
        config.Validate(path);
        return config;
    }

    public void Validate(string source)
    {
        if (Rank < 1) throw new InvalidDataException($"{source}: r must be at least 1 (got {Rank})");
        if (!(Dropout >= 0 && Dropout < 1))
            throw new InvalidDataException($"{source}: lora_dropout must be in [0, 1) (got {Dropout})");
        if (UseRsLora || UseDora || FanInFanOut)
            throw new InvalidDataException(
                $"{source}: use_rslora, use_dora and fan_in_fan_out are not supported (each must be false)");
        if (Bias != "none") throw new InvalidDataException($"{source}: bias '{Bias}' is not supported (only \"none\")");
        foreach (var module in TargetModules)
            if (!AllLinearModules.Contains(module))
                throw new InvalidDataException(
                    $"{source}: target module '{module}' is not one of {string.Join(", ", AllLinearModules)}");
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json.LoraConfig);
}
