using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>Final-norm hidden states [B, T, h] and the router logits of each MoE layer, in layer order.</summary>
public sealed record LlamaModelOutput(Tensor HiddenStates, IReadOnlyList<Tensor> RouterLogits);

#pragma warning disable IDE1006 // field names are the HuggingFace state-dict keys

/// <summary>The decoder stack: token embedding, N decoder layers, final RMSNorm.</summary>
public sealed class LlamaModel : nn.Module<Tensor, LlamaModelOutput>
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<LlamaDecoderLayer> layers;
    private readonly RMSNorm norm;
    private readonly RotaryEmbedding _rotary;
    private readonly int? _attentionWindow;

    public LlamaModel(ModelConfig config, ScalarType dtype) : base(nameof(LlamaModel))
    {
        embed_tokens = nn.Embedding(config.VocabSize, config.HiddenSize, dtype: dtype);
        layers = new ModuleList<LlamaDecoderLayer>(
            Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new LlamaDecoderLayer(config, dtype)).ToArray());
        norm = new RMSNorm(config.HiddenSize, config.RmsNormEps, dtype);
        _rotary = new RotaryEmbedding(config.HeadDim, config.RopeTheta);
        _attentionWindow = config.AttentionWindow;
        RegisterComponents();
    }

    public IReadOnlyList<LlamaDecoderLayer> Layers => layers.ToList();

    /// <summary>The token embedding matrix [V, h] (also the output projection when embeddings are tied).</summary>
    public Parameter EmbeddingWeight => embed_tokens.weight!;

    public override LlamaModelOutput forward(Tensor inputIds)
    {
        if (inputIds.shape[1] > _attentionWindow)
            throw new ArgumentException($"a sequence of {inputIds.shape[1]} tokens is longer than the model's " +
                $"sliding_window {_attentionWindow}, which the kit does not implement (it attends over the whole " +
                "sequence): use at most that many tokens (cutoff_len)");
        using var scope = torch.NewDisposeScope();
        var hidden = embed_tokens.forward(inputIds);
        var (cos, signedSin) = _rotary.Compute(inputIds.shape[1], hidden.device, hidden.dtype);
        var routerLogits = new List<Tensor>();
        foreach (var layer in layers)
        {
            var output = layer.forward(new LayerInput(hidden, cos, signedSin));
            hidden = output.HiddenStates;
            if (output.RouterLogits is not null) routerLogits.Add(output.RouterLogits.MoveToOuterDisposeScope());
        }
        return new LlamaModelOutput(norm.forward(hidden).MoveToOuterDisposeScope(), routerLogits);
    }
}
