using System.Text.Json;
using System.Text.Json.Nodes;
using MoeLpr.Data;
using MoeLpr.Model;
using MoeLpr.Upcycling;

namespace MoeLpr.Checkpoints;

/// <summary>
/// Writes an upcycled LLaMA/Mistral model as a standalone HF Mixtral checkpoint (<c>MixtralForCausalLM</c>), so tools
/// that know Mixtral (transformers, vLLM, llama.cpp) run it without the base model or the MoE-LPR adapter code.
/// Mixtral routes exactly as MoE-LPR does for top-K ≥ 2 (softmax over all experts, top-K, renormalise).
/// </summary>
public static class MixtralExporter
{
    static readonly string[] WeightPatterns = ["model*.safetensors", "model.safetensors.index.json"];

    /// <summary>
    /// <c>moelpr export</c>: loads the base model and its MoE adapter, writes the Mixtral checkpoint and copies the
    /// base's tokenizer files next to it, so the folder loads on its own (transformers, the kit's <c>eval</c>).
    /// A base or adapter that Mixtral cannot express is refused naming its config file, before any weight is read.
    /// </summary>
    public static void Export(string modelDir, string adapterDir, string outputDir, long? maxShardBytes = null)
    {
        AtomicDirectory.RequireNewOrEmpty(outputDir);
        var baseConfigPath = Path.Combine(modelDir, HfModelDirectory.ConfigFileName);
        var adapterConfigPath = Path.Combine(adapterDir, PeftAdapterFiles.ConfigFileName);
        if (File.Exists(baseConfigPath) && File.Exists(adapterConfigPath))
        {
            var baseConfig = ModelConfig.Load(baseConfigPath);
            CheckBase(baseConfig, baseConfigPath);
            CheckAdapter(MoeConfig.Load(adapterConfigPath), baseConfig.NumHiddenLayers, adapterConfigPath);
        }
        using var model = HfModelDirectory.Load(modelDir);
        var config = MoeAdapter.Load(model, adapterDir);
        Export(model, config, outputDir, maxShardBytes);
        TokenizerLoader.CopyFiles(modelDir, outputDir);
    }

    /// <summary>Exports <paramref name="moeModel"/> (every layer upcycled as <paramref name="config"/> says).</summary>
    public static void Export(LlamaForCausalLM moeModel, MoeConfig config, string dir, long? maxShardBytes = null)
    {
        CheckBase(moeModel.Config, "the base model");
        CheckAdapter(config, moeModel.Config.NumHiddenLayers, "the MoE config");
        CheckUpcycled(moeModel, config);
        var weights = moeModel.state_dict()
            .Select(p => KeyValuePair.Create(MixtralKeys.FromMoeLpr(p.Key), p.Value)).ToList();
        var mixtralConfig = MixtralConfig(moeModel, config);
        AtomicDirectory.Write(dir, staging =>
        {
            File.WriteAllText(Path.Combine(staging, HfModelDirectory.ConfigFileName),
                mixtralConfig.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            SafeTensorsCheckpoint.Write(staging, weights, maxShardBytes, HfModelDirectory.WeightsFileName);
        }, WeightPatterns);
    }

    static void CheckBase(ModelConfig baseConfig, string source)
    {
        if (baseConfig.ModelType == "qwen2")
            throw new InvalidOperationException(
                $"{source}: a qwen2 base cannot become Mixtral: Mixtral has no q/k/v bias, " +
                $"so only the adapter layout (MoeAdapter) applies");
        if (baseConfig.AttentionBias)
            throw new InvalidOperationException(
                $"{source}: the base uses attention_bias, which Mixtral lacks; " +
                $"only the adapter layout (MoeAdapter) applies");
    }

    static void CheckAdapter(MoeConfig config, int numLayers, string source)
    {
        if (config.TopK == 1)
            throw new InvalidOperationException(
                $"{source}: with top-1 MoE-LPR scales the expert output by its probability while Mixtral " +
                $"renormalises it to 1; export needs topk >= 2");
        if (config.LayersToTransform.Length == 0) return;   // every layer
        var dense = Enumerable.Range(0, numLayers).Except(config.LayersToTransform).ToList();
        if (dense.Count > 0)
            throw new InvalidOperationException(
                $"{source}: layers_to_transform leaves layer {string.Join(", ", dense)} dense; Mixtral needs every " +
                "layer upcycled (layers_to_transform = all)");
    }

    static void CheckUpcycled(LlamaForCausalLM model, MoeConfig config)
    {
        var layers = model.Model.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            var moe = layers[i].Moe
                ?? throw new InvalidOperationException(
                    $"the model: layer {i} is dense; Mixtral needs every layer upcycled (layers_to_transform = all)");
            if (moe.NumExperts != config.NumExperts || moe.TopK != config.TopK)
                throw new InvalidOperationException(
                    $"the model: layer {i} has {moe.NumExperts} experts and top-{moe.TopK}, " +
                    $"the config says {config.NumExperts} and top-{config.TopK}");
        }
    }

    /// <summary>
    /// The base config.json turned into a Mixtral one: same sizes, plus the expert count and top-K, every field in the
    /// JSON type <c>MixtralConfig</c> declares (floats with a decimal point).
    /// </summary>
    static JsonObject MixtralConfig(LlamaForCausalLM model, MoeConfig config)
    {
        var json = JsonNode.Parse(model.Config.ToJson())!.AsObject();
        json.Remove("attention_bias");
        json["architectures"] = new JsonArray("MixtralForCausalLM");
        json["model_type"] = "mixtral";
        json["torch_dtype"] = TorchDtypeName.NameOf(model.DType);
        json["num_local_experts"] = config.NumExperts;
        json["num_experts_per_tok"] = config.TopK;
        json["sliding_window"] = null;
        json["output_router_logits"] = false;
        json["router_aux_loss_coef"] = JsonFloat.Node(config.AuxLossCoef ?? 0.0);
        json["router_jitter_noise"] = JsonFloat.Node(0.0);
        return json;
    }
}
