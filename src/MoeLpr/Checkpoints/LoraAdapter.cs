using MoeLpr.Model;
using static TorchSharp.torch;

namespace MoeLpr.Checkpoints;

/// <summary>
/// A PEFT "LORA" adapter folder: <c>adapter_config.json</c> (<see cref="LoraConfig"/>) and
/// <c>adapter_model.safetensors</c> holding exactly the state-dict keys that contain <c>lora_</c>, each prefixed
/// <c>base_model.model.</c> (PEFT's saved layout). The frozen base is never written.
/// </summary>
public static class LoraAdapter
{
    static readonly string[] WeightPatterns = ["adapter_model*.safetensors", "adapter_model.safetensors.index.json"];

    public static void Save(LlamaForCausalLM model, LoraConfig config, string dir)
    {
        config.Validate(Path.Combine(dir, MoeAdapter.ConfigFileName));
        var tensors = AdapterTargets(model);
        if (tensors.Count == 0) throw new InvalidOperationException($"{dir}: the model has no LoRA layers to save");
        AtomicDirectory.Write(dir, staging =>
        {
            File.WriteAllText(Path.Combine(staging, MoeAdapter.ConfigFileName), config.ToJson());
            SafeTensors.Save(Path.Combine(staging, MoeAdapter.WeightsFileName), tensors);
        }, WeightPatterns);
    }

    /// <summary>
    /// Reads the config, wraps <paramref name="baseModel"/>'s layers accordingly and loads the LoRA weights strictly.
    /// </summary>
    public static LoraConfig Load(LlamaForCausalLM baseModel, string dir)
    {
        var config = LoraConfig.Load(Path.Combine(dir, MoeAdapter.ConfigFileName));
        var checkpoint = SafeTensorsCheckpoint.Open(dir, MoeAdapter.WeightsFileName);
        LoraInjector.Inject(baseModel, config, seed: 0); // every lora_ tensor is overwritten below
        StateDictLoader.Load(AdapterTargets(baseModel), checkpoint);
        return config;
    }

    /// <summary>The adapter keys (with prefix) and the model tensors they hold.</summary>
    public static Dictionary<string, Tensor> AdapterTargets(LlamaForCausalLM model) =>
        model.state_dict()
            .Where(p => p.Key.Contains("lora_")).ToDictionary(p => MoeAdapter.KeyPrefix + p.Key, p => p.Value);
}
