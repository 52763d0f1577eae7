using MoeLpr.Model;
using MoeLpr.Upcycling;
using static TorchSharp.torch;

namespace MoeLpr.Checkpoints;

/// <summary>
/// The reference PEFT "MOE" adapter folder (<see cref="PeftAdapterFiles"/>): <c>adapter_config.json</c>
/// (<see cref="MoeConfig"/>) and <c>adapter_model.safetensors</c> holding exactly the state-dict keys that contain
/// <c>moe_</c> (routers and experts 1..N-1). The frozen base, expert 0 included, is never written.
/// </summary>
public static class MoeAdapter
{
    /// <summary>
    /// Writes the adapter of an upcycled model. <c>layers_to_transform</c> is written as the explicit layer list
    /// (the reference PEFT code reads an empty list as "no layer").
    /// </summary>
    public static void Save(LlamaForCausalLM moeModel, MoeConfig config, string dir)
    {
        config.Validate(Path.Combine(dir, PeftAdapterFiles.ConfigFileName));
        var layers = Upcycler.LayersToTransform(config, moeModel.Config.NumHiddenLayers);
        var actual = moeModel.Model.Layers.Select((layer, i) => (layer, i))
            .Where(x => x.layer.Moe is not null).ToList();
        if (!actual.Select(x => x.i).SequenceEqual(layers))
            throw new InvalidOperationException(
                $"{dir}: the model's MoE layers [{string.Join(", ", actual.Select(x => x.i))}] differ from the " +
                $"config's [{string.Join(", ", layers)}]");
        foreach (var (layer, i) in actual)
            if (layer.Moe!.NumExperts != config.NumExperts || layer.Moe.TopK != config.TopK)
                throw new InvalidOperationException(
                    $"{dir}: layer {i} has {layer.Moe.NumExperts} experts and top-{layer.Moe.TopK}, " +
                    $"the config says {config.NumExperts} and top-{config.TopK}");

        var written = config with { LayersToTransform = layers.ToArray() };
        var tensors = Targets(moeModel);
        AtomicDirectory.Write(dir, staging =>
        {
            File.WriteAllText(Path.Combine(staging, PeftAdapterFiles.ConfigFileName), written.ToJson());
            SafeTensors.Save(Path.Combine(staging, PeftAdapterFiles.WeightsFileName), tensors);
        }, PeftAdapterFiles.WeightPatterns);
    }

    /// <summary>
    /// Reads the adapter config, upcycles <paramref name="baseModel"/> in place accordingly, then loads the router and
    /// expert weights strictly (every expected key present, no other key, shapes equal). Returns the adapter config.
    /// </summary>
    public static MoeConfig Load(LlamaForCausalLM baseModel, string dir)
    {
        string configPath = Path.Combine(dir, PeftAdapterFiles.ConfigFileName);
        var config = MoeConfig.Load(configPath);
        if (baseModel.MoeBlocks.Count > 0)
            throw new InvalidOperationException(
                $"{configPath}: the base model is already upcycled; load the adapter into a dense model");
        int numLayers = baseModel.Config.NumHiddenLayers;
        foreach (var layer in config.LayersToTransform)
            if (layer < 0 || layer >= numLayers)
                throw new InvalidDataException(
                    $"{configPath}: layers_to_transform has {layer}, but the base model has layers 0..{numLayers - 1}");
        var checkpoint = SafeTensorsCheckpoint.Open(dir, PeftAdapterFiles.WeightsFileName);

        // The fresh routers and expert copies are all overwritten below, so the seed does not matter.
        Upcycler.Upcycle(baseModel, config, seed: 0);
        StateDictLoader.Load(Targets(baseModel), checkpoint);
        return config;
    }

    /// <summary>The adapter keys (with prefix) and the model tensors they hold.</summary>
    public static Dictionary<string, Tensor> Targets(LlamaForCausalLM moeModel) =>
        PeftAdapterFiles.Targets(moeModel, MoeBlock.AdapterMarker);
}
