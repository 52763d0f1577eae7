using MoeLpr.Model;
using static TorchSharp.torch;

namespace MoeLpr.Checkpoints;

/// <summary>
/// PEFT's adapter folder, the same for MoE-LPR's "MOE" adapters (<see cref="MoeAdapter"/>) and LoRA
/// (<see cref="LoraAdapter"/>): <c>adapter_config.json</c> and <c>adapter_model.safetensors</c> holding only the
/// adapter's tensors, each key prefixed <c>base_model.model.</c> because PeftModel wraps the base model under that
/// name.
/// </summary>
public static class PeftAdapterFiles
{
    public const string ConfigFileName = "adapter_config.json";
    public const string WeightsFileName = "adapter_model.safetensors";
    public const string KeyPrefix = "base_model.model.";

    /// <summary>The weight files a new save supersedes (a sharded one included).</summary>
    internal static readonly string[] WeightPatterns =
        ["adapter_model*.safetensors", "adapter_model.safetensors.index.json"];

    /// <summary>
    /// The adapter's tensors of <paramref name="model"/>, under their saved keys: the parameters whose names contain
    /// <paramref name="marker"/> (<see cref="MoeBlock.AdapterMarker"/>, <see cref="LoraLinear.AdapterMarker"/>).
    /// </summary>
    public static Dictionary<string, Tensor> Targets(LlamaForCausalLM model, string marker) =>
        model.state_dict().Where(p => p.Key.Contains(marker, StringComparison.Ordinal))
            .ToDictionary(p => KeyPrefix + p.Key, p => p.Value);
}
