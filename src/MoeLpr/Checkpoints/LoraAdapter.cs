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
    public static void Save(LlamaForCausalLM model, LoraConfig config, string dir)
    {
        config.Validate(Path.Combine(dir, PeftAdapterFiles.ConfigFileName));
        var tensors = Targets(model);
        if (tensors.Count == 0) throw new InvalidOperationException($"{dir}: the model has no LoRA layers to save");
        AtomicDirectory.Write(dir, staging =>
        {
            File.WriteAllText(Path.Combine(staging, PeftAdapterFiles.ConfigFileName), config.ToJson());
            SafeTensors.Save(Path.Combine(staging, PeftAdapterFiles.WeightsFileName), tensors);
        }, PeftAdapterFiles.WeightPatterns);
    }

    /// <summary>
    /// Reads the config, wraps <paramref name="baseModel"/>'s layers accordingly and loads the LoRA weights strictly.
    /// </summary>
    public static LoraConfig Load(LlamaForCausalLM baseModel, string dir)
    {
        var config = LoraConfig.Load(Path.Combine(dir, PeftAdapterFiles.ConfigFileName));
        var checkpoint = SafeTensorsCheckpoint.Open(dir, PeftAdapterFiles.WeightsFileName);
        LoraInjector.Inject(baseModel, config, seed: 0); // every lora_ tensor is overwritten below
        StateDictLoader.Load(Targets(baseModel), checkpoint);
        return config;
    }

    /// <summary>The adapter keys (with prefix) and the model tensors they hold.</summary>
    public static Dictionary<string, Tensor> Targets(LlamaForCausalLM model) =>
        PeftAdapterFiles.Targets(model, LoraLinear.AdapterMarker);
}
