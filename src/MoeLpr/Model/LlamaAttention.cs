using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Model;

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
        q = RotaryEmbedding.Apply(q, input.Cos, input.Sin);
        k = RotaryEmbedding.Apply(k, input.Cos, input.Sin);

        // GQA: each key/value head serves numHeads / numKeyValueHeads query heads.
        var groups = _numHeads / _numKeyValueHeads;
        k = k.repeat_interleave(groups, dim: 1);
        v = v.repeat_interleave(groups, dim: 1);

        // Scores are scaled in the model dtype (as HF does), then masked and softmaxed in float32.
        var scores = (q.matmul(k.transpose(2, 3)) * (1.0 / Math.Sqrt(_headDim)))
            .to_type(Precision.AtLeastFloat32(x.dtype));
        var future = torch.ones(seqLen, seqLen, dtype: ScalarType.Bool, device: x.device).triu(1);
        scores = scores.masked_fill(future, FillValues.NegativeInfinity);
        var weights = scores.softmax(-1).to_type(v.dtype);

        var attended = weights.matmul(v).transpose(1, 2).reshape(batch, seqLen, _numHeads * _headDim);
        return o_proj.forward(attended).MoveToOuterDisposeScope();
    }
}
