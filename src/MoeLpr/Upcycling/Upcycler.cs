using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Upcycling;

/// <summary>
/// Turns a dense model into an MoE model in place, as the reference PEFT <c>MoeLayer.update_layer</c> does:
/// in every chosen layer the original MLP becomes expert 0, experts 1..N-1 are exact copies of it, and a new router
/// W_r [N, h] (no bias) gets Xavier-normal values drawn in float32 and is then cast to the model dtype.
/// With top-K ≥ 2 the upcycled model therefore computes the dense model's function (the K weights sum to 1).
/// </summary>
public static class Upcycler
{
    /// <param name="config">Experts, top-K and <c>layers_to_transform</c> (empty = every layer).</param>
    /// <param name="seed">Seeds the router initialisation; layers draw in ascending order from one generator.</param>
    public static void Upcycle(LlamaForCausalLM model, MoeConfig config, long seed)
    {
        config.Validate("moe config");
        var layers = model.Model.Layers;
        using var generator = new Generator((ulong)seed);
        foreach (var index in LayersToTransform(config, layers.Count))
        {
            var dense = layers[index].DenseMlp
                ?? throw new InvalidOperationException($"layer {index} is already an MoE layer; upcycle a dense model");
            var copies = Enumerable.Range(1, config.NumExperts - 1).Select(_ => dense.DeepCopy()).ToList();
            var block = new MoeBlock(dense, copies, config.TopK);
            InitialiseRouter(block.RouterWeight, generator);
            layers[index].ReplaceMlp(block);
        }
        model.Moe = config;
    }

    /// <summary>The layer indices to upcycle, ascending; every layer when the config lists none.</summary>
    public static IReadOnlyList<int> LayersToTransform(MoeConfig config, int numLayers)
    {
        if (config.LayersToTransform.Length == 0) return Enumerable.Range(0, numLayers).ToList();
        foreach (var i in config.LayersToTransform)
            if (i < 0 || i >= numLayers)
                throw new InvalidDataException(
                    $"moe config: layers_to_transform has {i}, but the model has layers 0..{numLayers - 1}");
        return config.LayersToTransform.Distinct().Order().ToList();
    }

    /// <summary>
    /// xavier_normal_: N(0, σ²) with σ = sqrt(2 / (fan_in + fan_out)), drawn in float32 on the CPU.
    /// </summary>
    private static void InitialiseRouter(Tensor weight, Generator generator)
    {
        long numExperts = weight.shape[0], hidden = weight.shape[1];
        var std = Math.Sqrt(2.0 / (hidden + numExperts));
        using var scope = torch.NewDisposeScope();
        var values = torch.randn([numExperts, hidden], dtype: ScalarType.Float32, generator: generator) * std;
        using (torch.no_grad()) weight.copy_(values);
    }
}
