using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>
/// How <see cref="LlamaAttention"/> computes softmax(QKᵀ/√d)·V, named as HF's <c>attn_implementation</c>.
/// </summary>
public enum AttentionImplementation
{
    /// <summary><see cref="Sdpa"/> on CUDA, <see cref="Eager"/> elsewhere (so CPU results do not change).</summary>
    Auto,
    /// <summary>
    /// HF's eager attention: the T×T scores in the model dtype, masked and softmaxed in float32, kept for the backward
    /// pass; about ten kernels per layer each way.
    /// </summary>
    Eager,
    /// <summary>
    /// libtorch's <c>scaled_dot_product_attention</c>, causal: one fused kernel each way (FlashAttention on CUDA in
    /// bfloat16/float16) that never stores the scores; HF's default. Same result up to rounding.
    /// </summary>
    Sdpa,
}

#pragma warning disable IDE1006 // field names are the HuggingFace state-dict keys

/// <summary>
/// Causal multi-head attention with grouped-query heads (GQA) and rotary positions. q/k/v carry a bias for Qwen2
/// (or LLaMA's <c>attention_bias</c>); scores are softmaxed in float32.
/// </summary>
public sealed class LlamaAttention : nn.Module<LayerInput, Tensor>
{
    // Typed as modules, not Linear, so an adapter (e.g. LoraLinear) can wrap a projection in place.
    private nn.Module<Tensor, Tensor> q_proj;
    private nn.Module<Tensor, Tensor> k_proj;
    private nn.Module<Tensor, Tensor> v_proj;
    private nn.Module<Tensor, Tensor> o_proj;

    /// <summary>The state-dict names of the four projections.</summary>
    public static readonly IReadOnlyList<string> ProjectionNames = ["q_proj", "k_proj", "v_proj", "o_proj"];
    private readonly int _numHeads;
    private readonly int _numKeyValueHeads;
    private readonly int _headDim;

    public LlamaAttention(ModelConfig config, ScalarType dtype) : base(nameof(LlamaAttention))
    {
        _numHeads = config.NumAttentionHeads;
        _numKeyValueHeads = config.KeyValueHeads;
        _headDim = config.HeadDim;
        q_proj = nn.Linear(config.HiddenSize, _numHeads * _headDim, hasBias: config.HasQkvBias, dtype: dtype);
        k_proj = nn.Linear(config.HiddenSize, _numKeyValueHeads * _headDim, hasBias: config.HasQkvBias, dtype: dtype);
        v_proj = nn.Linear(config.HiddenSize, _numKeyValueHeads * _headDim, hasBias: config.HasQkvBias, dtype: dtype);
        o_proj = nn.Linear(_numHeads * _headDim, config.HiddenSize, hasBias: config.HasOutputBias, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>
    /// How <see cref="forward"/> computes attention (<see cref="AttentionImplementation.Auto"/> unless set).
    /// </summary>
    public AttentionImplementation Implementation { get; set; } = AttentionImplementation.Auto;

    bool UsesSdpa(DeviceType device) => Resolve(Implementation, device) == AttentionImplementation.Sdpa;

    /// <summary>
    /// <see cref="AttentionImplementation.Eager"/> or <see cref="AttentionImplementation.Sdpa"/>: what
    /// <paramref name="implementation"/> means on <paramref name="device"/>.
    /// </summary>
    public static AttentionImplementation Resolve(AttentionImplementation implementation, DeviceType device) =>
        implementation != AttentionImplementation.Auto ? implementation
        : device == DeviceType.CUDA ? AttentionImplementation.Sdpa : AttentionImplementation.Eager;

    /// <summary>Sets <see cref="Implementation"/> of every attention module in <paramref name="model"/>.</summary>
    public static void SetImplementation(nn.Module model, AttentionImplementation implementation)
    {
        foreach (var attention in model.modules().Prepend(model).OfType<LlamaAttention>())
            attention.Implementation = implementation;
    }

    /// <summary>
    /// "sdpa" or "eager": how the attention of <paramref name="model"/> runs on <paramref name="device"/>; null for a
    /// module without attention.
    /// </summary>
    public static string? ImplementationOf(nn.Module model, DeviceType device) =>
        model.modules().Prepend(model).OfType<LlamaAttention>().FirstOrDefault() is { } attention
            ? Resolve(attention.Implementation, device).ToString().ToLowerInvariant()
            : null;

    public nn.Module<Tensor, Tensor> Projection(string name) => name switch
    {
        "q_proj" => q_proj, "k_proj" => k_proj, "v_proj" => v_proj, "o_proj" => o_proj,
        _ => throw new ArgumentException(
            $"no attention projection '{name}' (expected {string.Join(", ", ProjectionNames)})", nameof(name)),
    };

    /// <summary>
    /// Puts <paramref name="replacement"/> where projection <paramref name="name"/> was, under the same name.
    /// </summary>
    public void ReplaceProjection(string name, nn.Module<Tensor, Tensor> replacement)
    {
        Projection(name); // validates the name
        ModuleSlot.Replace(this, name, replacement);
        switch (name)
        {
            case "q_proj": q_proj = replacement; break;
            case "k_proj": k_proj = replacement; break;
            case "v_proj": v_proj = replacement; break;
            default: o_proj = replacement; break;
        }
    }

    public override Tensor forward(LayerInput input)
    {
        using var scope = torch.NewDisposeScope();
        var x = input.HiddenStates;
        long batch = x.shape[0], seqLen = x.shape[1];

        // [B, T, heads·d] → [B, heads, T, d]
        var q = q_proj.forward(x).view(batch, seqLen, _numHeads, _headDim).transpose(1, 2);
        var k = k_proj.forward(x).view(batch, seqLen, _numKeyValueHeads, _headDim).transpose(1, 2);
        var v = v_proj.forward(x).view(batch, seqLen, _numKeyValueHeads, _headDim).transpose(1, 2);
        q = RotaryEmbedding.Apply(q, input.Cos, input.SignedSin);
        k = RotaryEmbedding.Apply(k, input.Cos, input.SignedSin);

        // GQA: each key/value head serves numHeads / numKeyValueHeads query heads (no copy when that is 1).
        var groups = _numHeads / _numKeyValueHeads;
        if (groups > 1)
        {
            k = k.repeat_interleave(groups, dim: 1);
            v = v.repeat_interleave(groups, dim: 1);
        }

        var attended = UsesSdpa(x.device_type)
            ? nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true)
            : EagerAttention(q, k, v);
        attended = attended.transpose(1, 2).reshape(batch, seqLen, _numHeads * _headDim);
        return o_proj.forward(attended).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// HF's eager attention over [B, heads, T, d]: scores scaled in the model dtype (as HF does), then masked and
    /// softmaxed in float32.
    /// </summary>
    static Tensor EagerAttention(Tensor q, Tensor k, Tensor v)
    {
        long seqLen = q.shape[2];
        var scores = (q.matmul(k.transpose(2, 3)) * (1.0 / Math.Sqrt(q.shape[3])))
            .to_type(Precision.AtLeastFloat32(q.dtype));
        var future = torch.ones(seqLen, seqLen, dtype: ScalarType.Bool, device: q.device).triu(1);
        scores = scores.masked_fill(future, FillValues.NegativeInfinity);
        return scores.softmax(-1).to_type(v.dtype).matmul(v);
    }
}
