using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>
/// Input of <see cref="LlamaForCausalLM"/>: token ids [B, T] int64; optional labels [B, T] (−100 = ignored; the
/// model shifts them itself, so labels may simply be a copy of the ids); optional old-language mask [B, T] bool,
/// carried for the LPR loss and ignored by the forward pass.
/// </summary>
public sealed record CausalLMInput(Tensor InputIds, Tensor? Labels = null, Tensor? OldLanguageMask = null);

/// <summary>
/// Output of <see cref="LlamaForCausalLM"/>: logits [B, T, V] float32, the shifted LM cross-entropy when labels were
/// given, and the router logits [B*T, N] float32 of each MoE layer in layer order (empty for a dense model).
/// </summary>
public sealed record CausalLMOutput(Tensor Logits, Tensor? LmLoss, IReadOnlyList<Tensor> RouterLogits);

#pragma warning disable IDE1006 // field names are the HuggingFace state-dict keys

/// <summary>
/// A LLaMA-family causal LM (llama, mistral, qwen2) built from a HF <see cref="ModelConfig"/>.
/// Weights may be float32, float16 or bfloat16; norms, attention softmax, router softmax and logits run in float32
/// (float64 weights, used by gradient checks, keep everything in float64).
/// With tied embeddings there is no <c>lm_head</c> entry: the output projection reuses
/// <c>model.embed_tokens.weight</c>.
/// </summary>
public sealed class LlamaForCausalLM : nn.Module<CausalLMInput, CausalLMOutput>
{
    /// <summary>The label value that the LM loss skips (PyTorch's ignore_index convention).</summary>
    public const long IgnoreIndex = -100;

    private readonly LlamaModel model;
    private readonly Linear? lm_head;

    public ModelConfig Config { get; }

    /// <summary>The weight dtype (follows <c>to(dtype)</c> conversions).</summary>
    public ScalarType DType => model.EmbeddingWeight.dtype;

    public LlamaForCausalLM(ModelConfig config, ScalarType dtype = ScalarType.Float32) : base(nameof(LlamaForCausalLM))
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64))
            throw new ArgumentException($"unsupported weight dtype {dtype} (use Float32, Float16, BFloat16, " +
                                        $"or Float64 for gradient checks)", nameof(dtype));
        config.Validate("model config");
        Config = config;
        model = new LlamaModel(config, dtype);
        lm_head = config.TieWordEmbeddings ? null
            : nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false, dtype: dtype);
        RegisterComponents();
    }

    public LlamaModel Model => model;

    /// <summary>
    /// The MoE configuration the model was upcycled with (experts, top-K, layers, loss weights): the one place the rest
    /// of the kit reads them from. Null while the model is dense.
    /// </summary>
    public MoeConfig? Moe { get; internal set; }

    /// <summary>The MoE blocks in layer order; empty while the model is dense.</summary>
    public IReadOnlyList<MoeBlock> MoeBlocks => model.Layers.Select(l => l.Moe).OfType<MoeBlock>().ToList();

    public override CausalLMOutput forward(CausalLMInput input)
    {
        using var scope = torch.NewDisposeScope();
        var body = model.forward(input.InputIds);
        var projected = lm_head is null
            ? nn.functional.linear(body.HiddenStates, model.EmbeddingWeight)
            : lm_head.forward(body.HiddenStates);
        var logits = projected.to_type(Precision.AtLeastFloat32(projected.dtype));

        Tensor? lmLoss = null;
        if (input.Labels is not null)
        {
            // Position t predicts token t+1: drop the last logit and the first label.
            long vocab = logits.shape[^1], seqLen = logits.shape[1];
            var shiftedLogits = logits.narrow(1, 0, seqLen - 1).reshape(-1, vocab);
            var shiftedLabels = input.Labels.narrow(1, 1, seqLen - 1).reshape(-1).to(logits.device);
            lmLoss = nn.functional.cross_entropy(shiftedLogits, shiftedLabels, ignore_index: IgnoreIndex)
                                  .MoveToOuterDisposeScope();
        }

        foreach (var r in body.RouterLogits) r.MoveToOuterDisposeScope();
        return new CausalLMOutput(logits.MoveToOuterDisposeScope(), lmLoss, body.RouterLogits);
    }

    /// <summary>
    /// Sets <c>requires_grad</c> of every parameter to <paramref name="isTrainable"/>(its state-dict name) and returns
    /// the number of trainable elements. Each training policy's <c>IsTrainable</c> says which names it trains.
    /// </summary>
    public long SetTrainable(Func<string, bool> isTrainable)
    {
        long trainable = 0;
        foreach (var (name, parameter) in named_parameters())
        {
            parameter.requires_grad = isTrainable(name);
            if (parameter.requires_grad) trainable += parameter.numel();
        }
        return trainable;
    }
}

/// <summary>
/// LM labels for packed blocks: the ids themselves (the model shifts them), with masked ids set to −100.
/// </summary>
public static class LanguageModelingLabels
{
    /// <param name="maskedTokenId">EOS = pad in the reference, whose collator drops pad targets; null keeps
    /// all.</param>
    public static Tensor From(Tensor inputIds, int? maskedTokenId) =>
        maskedTokenId is int id
            ? inputIds.masked_fill(inputIds.eq(id), FillValues.IgnoreIndex)
            : inputIds.clone();
}
