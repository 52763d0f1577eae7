using System.Text.Json.Nodes;
using MoeLpr.Model;
using MoeLpr.Upcycling;
using static TorchSharp.torch;

namespace MoeLpr.Checkpoints;

/// <summary>
/// Reads a HF Mixtral checkpoint back into an upcycled <see cref="LlamaForCausalLM"/>: every layer an MoE layer,
/// expert 0 from <c>experts.0</c>. Reads what <see cref="MixtralExporter"/> writes and what transformers'
/// <c>save_pretrained</c> writes (one file or <c>model-0000k-of-0000n.safetensors</c> shards with their index, any
/// weight dtype, <c>dtype</c>/<c>rope_parameters</c> in the config as transformers 5 names them).
/// </summary>
public static class MixtralImporter
{
    /// <summary>The fields a Mixtral config.json gives besides a dense model's, each a positive integer.</summary>
    static readonly string[] MoeFields = ["num_local_experts", "num_experts_per_tok"];

    public static LlamaForCausalLM Load(string dir, ScalarType? dtype = null)
    {
        string configPath = Path.Combine(dir, HfModelDirectory.ConfigFileName);
        var (baseConfig, moeConfig) = ReadConfig(configPath);
        var weightDtype = dtype ?? TorchDtypeName.Parse(baseConfig.TorchDtype, configPath);
        var checkpoint = SafeTensorsCheckpoint.Open(dir, HfModelDirectory.WeightsFileName);
        var model = new LlamaForCausalLM(baseConfig, weightDtype);
        try
        {
            // Routers and experts are all overwritten by the load, so the seed does not matter.
            Upcycler.Upcycle(model, moeConfig, seed: 0);
            var targets = model.state_dict().ToDictionary(p => MixtralKeys.FromMoeLpr(p.Key), p => p.Value);
            StateDictLoader.Load(targets, checkpoint, HfModelDirectory.TiedHeadKeys(baseConfig));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <summary>
    /// Splits a Mixtral config into the base model's config (as <c>mistral</c>: the same attention without biases)
    /// and the MoE config.
    /// </summary>
    static (ModelConfig Base, MoeConfig Moe) ReadConfig(string path)
    {
        var json = ConfigFile.ReadObject(path, "config.json");
        string? modelType = json["model_type"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        if (modelType != "mixtral")
            throw new InvalidDataException($"{path}: model_type is '{modelType}', expected 'mixtral'");
        ConfigFile.RequirePositiveIntegers(json, path, [.. ModelConfig.RequiredFields, .. MoeFields]);

        var moe = new MoeConfig
        {
            NumExperts = json["num_local_experts"]!.GetValue<int>(),
            TopK = json["num_experts_per_tok"]!.GetValue<int>(),
        };
        moe.Validate(path);
        json["model_type"] = "mistral";
        json.Remove("architectures");
        return (ModelConfig.FromJson(json, path), moe);
    }
}
