using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>
/// What attention and a decoder layer read: hidden states [B, T, h] and the rotary tables [T, headDim] in their dtype
/// (<see cref="RotaryEmbedding.Compute"/>).
/// </summary>
public sealed record LayerInput(Tensor HiddenStates, Tensor Cos, Tensor SignedSin);

/// <summary>
/// A decoder layer's result; <see cref="RouterLogits"/> [B*T, N] float32 is set only for an MoE layer.
/// </summary>
public sealed record DecoderLayerOutput(Tensor HiddenStates, Tensor? RouterLogits);

#pragma warning disable IDE1006 // field names are the HuggingFace state-dict keys

/// <summary>
/// Pre-norm transformer block: x + attn(norm(x)), then h + mlp(norm(h)).
/// <c>mlp</c> is a dense <see cref="LlamaMLP"/> until upcycling swaps in a <see cref="MoeBlock"/>
/// (composition, not inheritance: TorchSharp does not re-register overridden sub-modules, issue #1485).
/// </summary>
public sealed class LlamaDecoderLayer : nn.Module<LayerInput, DecoderLayerOutput>
{
    private readonly LlamaAttention self_attn;
    private nn.Module mlp;
    private readonly RMSNorm input_layernorm;
    private readonly RMSNorm post_attention_layernorm;

    public LlamaDecoderLayer(ModelConfig config, ScalarType dtype) : base(nameof(LlamaDecoderLayer))
    {
        self_attn = new LlamaAttention(config, dtype);
        mlp = new LlamaMLP(config.HiddenSize, config.IntermediateSize, dtype);
        input_layernorm = new RMSNorm(config.HiddenSize, config.RmsNormEps, dtype);
        post_attention_layernorm = new RMSNorm(config.HiddenSize, config.RmsNormEps, dtype);
        RegisterComponents();
    }

    public LlamaAttention Attention => self_attn;

    /// <summary>The dense MLP, or null once the layer is an MoE layer.</summary>
    public LlamaMLP? DenseMlp => mlp as LlamaMLP;

    /// <summary>The MoE block, or null while the layer is dense.</summary>
    public MoeBlock? Moe => mlp as MoeBlock;

    /// <summary>
    /// Replaces the dense MLP by <paramref name="moe"/> under the same name, so the state-dict keys become
    /// <c>mlp.base_layer.*</c>, <c>mlp.moe_experts.{j}.*</c>, <c>mlp.moe_router_embedding.weight</c>.
    /// </summary>
    public void ReplaceMlp(MoeBlock moe)
    {
        if (mlp is MoeBlock) throw new InvalidOperationException("this layer is already an MoE layer");
        ModuleSlot.Replace(this, nameof(mlp), moe);
        mlp = moe;
    }

    public override DecoderLayerOutput forward(LayerInput input)
    {
        using var scope = torch.NewDisposeScope();
        var residual = input.HiddenStates;
        var attended = self_attn.forward(input with { HiddenStates = input_layernorm.forward(residual) });
        var hidden = residual + attended;

        var normed = post_attention_layernorm.forward(hidden);   // also the router input
        Tensor? routerLogits = null;
        Tensor ffn;
        if (mlp is MoeBlock moe)
        {
            var routed = moe.forward(normed);
            ffn = routed.HiddenStates;
            routerLogits = routed.RouterLogits.MoveToOuterDisposeScope();
        }
        else
        {
            ffn = ((LlamaMLP)mlp).forward(normed);
        }
        return new DecoderLayerOutput((hidden + ffn).MoveToOuterDisposeScope(), routerLogits);
    }
}
