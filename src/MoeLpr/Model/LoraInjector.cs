using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace MoeLpr.Model;

/// <summary>
/// Wraps the targeted linear layers of every decoder layer of a dense model in <see cref="LoraLinear"/>, in place.
/// lora_A matrices are drawn in layer order, then projection order (q, k, v, o, gate, up, down), from one seeded
/// generator, so the same seed gives the same adapter.
/// </summary>
public static class LoraInjector
{
    public static void Inject(LlamaForCausalLM model, LoraConfig config, long seed)
    {
        config.Validate("lora config");
        using var generator = new torch.Generator((ulong)seed);
        foreach (var (layer, index) in model.Model.Layers.Select((l, i) => (l, i)))
        {
            var mlp = layer.DenseMlp
                ?? throw new InvalidOperationException($"layer {index} is an MoE layer; LoRA applies to a dense model");
            foreach (var name in LlamaAttention.ProjectionNames.Where(config.TargetModules.Contains))
                layer.Attention.ReplaceProjection(name,
                    Wrap(layer.Attention.Projection(name), config, generator, $"layer {index} {name}"));
            foreach (var name in LlamaMLP.ProjectionNames.Where(config.TargetModules.Contains))
                mlp.ReplaceProjection(name, Wrap(mlp.Projection(name), config, generator, $"layer {index} {name}"));
        }
    }

    static LoraLinear Wrap(nn.Module<torch.Tensor, torch.Tensor> projection, LoraConfig config,
        torch.Generator generator, string where) =>
        projection is Linear linear
            ? new LoraLinear(linear, config.Rank, config.Alpha, generator, config.Dropout)
            : throw new InvalidOperationException($"{where} already has an adapter");
}
