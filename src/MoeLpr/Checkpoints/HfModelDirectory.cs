using MoeLpr.Model;
using static TorchSharp.torch;

namespace MoeLpr.Checkpoints;

/// <summary>
/// A dense HuggingFace model folder: <c>config.json</c> plus <c>model.safetensors</c> or its sharded form.
/// Loading is strict (missing, unexpected and misshapen keys are errors naming the file); saving is all-or-nothing.
/// </summary>
public static class HfModelDirectory
{
    public const string ConfigFileName = "config.json";
    public const string WeightsFileName = "model.safetensors";

    /// <summary>
    /// Weight files a new save replaces, so a sharded save over a single-file checkpoint leaves nothing stale.
    /// </summary>
    static readonly string[] WeightPatterns = ["model*.safetensors", "model.safetensors.index.json"];

    /// <summary>
    /// Loads the model in <paramref name="dtype"/>, or in the config's <c>torch_dtype</c> when none is given.
    /// </summary>
    public static LlamaForCausalLM Load(string dir, ScalarType? dtype = null)
    {
        string configPath = Path.Combine(dir, ConfigFileName);
        var config = ModelConfig.Load(configPath);
        var weightDtype = dtype ?? TorchDtypeName.Parse(config.TorchDtype, configPath);
        var checkpoint = SafeTensorsCheckpoint.Open(dir, WeightsFileName);
        var model = new LlamaForCausalLM(config, weightDtype);
        try
        {
            StateDictLoader.Load(model.state_dict(), checkpoint, TiedHeadKeys(config));
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <summary>
    /// With tied embeddings the model has no <c>lm_head</c>; some exporters still write a copy of the embedding under
    /// that key, which is harmless to skip.
    /// </summary>
    internal static IReadOnlySet<string> TiedHeadKeys(ModelConfig config) =>
        config.TieWordEmbeddings ? new HashSet<string> { "lm_head.weight" } : new HashSet<string>();

    /// <summary>
    /// Writes <c>config.json</c> (with <c>torch_dtype</c> set to the weights' dtype) and the weights, sharded when
    /// <paramref name="maxShardBytes"/> is given and exceeded. Only dense models: an MoE model is saved as an adapter
    /// (<see cref="MoeAdapter"/>) or a merged Mixtral checkpoint (<see cref="MixtralExporter"/>).
    /// </summary>
    public static void Save(LlamaForCausalLM denseModel, string dir, long? maxShardBytes = null)
    {
        if (denseModel.MoeBlocks.Count > 0)
            throw new InvalidOperationException(
                $"{dir}: the model has MoE layers; save it with MoeAdapter.Save (adapter) or " +
                $"MixtralExporter.Export (merged)");
        var config = denseModel.Config with
        {
            TorchDtype = TorchDtypeName.NameOf(denseModel.DType),
            Architectures = denseModel.Config.Architectures ?? [ArchitectureOf(denseModel.Config.ModelType)],
        };
        var weights = denseModel.state_dict().ToList();
        AtomicDirectory.Write(dir, staging =>
        {
            File.WriteAllText(Path.Combine(staging, ConfigFileName), config.ToJson());
            SafeTensorsCheckpoint.Write(staging, weights, maxShardBytes, WeightsFileName);
        }, WeightPatterns);
    }

    static string ArchitectureOf(string modelType) => modelType switch
    {
        "llama" => "LlamaForCausalLM",
        "mistral" => "MistralForCausalLM",
        "qwen2" => "Qwen2ForCausalLM",
        _ => throw new ArgumentException($"unsupported model_type '{modelType}'", nameof(modelType)),
    };
}
