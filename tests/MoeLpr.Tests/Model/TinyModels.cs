using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Model;

/// <summary>Tiny configs and seeded models shared by the model, upcycling and loss tests.</summary>
internal static class TinyModels
{
    /// <summary>LLaMA with grouped-query attention (4 query heads, 2 key/value heads) and an untied lm_head.</summary>
    public static readonly ModelConfig Llama = new()
    {
        ModelType = "llama", VocabSize = 97, HiddenSize = 32, IntermediateSize = 48, NumHiddenLayers = 2,
        NumAttentionHeads = 4, NumKeyValueHeads = 2, RmsNormEps = 1e-6, RopeTheta = 10000, TieWordEmbeddings = false,
    };

    /// <summary>Qwen2: q/k/v biases, tied embeddings, a different rope_theta.</summary>
    public static readonly ModelConfig Qwen2 = new()
    {
        ModelType = "qwen2", VocabSize = 89, HiddenSize = 24, IntermediateSize = 40, NumHiddenLayers = 2,
        NumAttentionHeads = 4, NumKeyValueHeads = 4, RmsNormEps = 1e-6, RopeTheta = 1_000_000, TieWordEmbeddings = true,
    };

    /// <summary>
    /// A model whose every parameter (norm weights and biases included) is seeded random, not the default ones/zeros.
    /// </summary>
    public static LlamaForCausalLM Create(ModelConfig config, long seed, ScalarType dtype = ScalarType.Float32)
    {
        var model = new LlamaForCausalLM(config, dtype);
        Randomize(model, seed);
        return model;
    }

    /// <summary>
    /// Overwrites every parameter with seeded N(0, 0.3²) values (1-d ones, i.e. norms and biases, around 1).
    /// </summary>
    public static void Randomize(nn.Module module, long seed)
    {
        using var generator = new Generator((ulong)seed);
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        foreach (var (_, p) in module.named_parameters())
            p.copy_(torch.randn(p.shape, dtype: ScalarType.Float64, generator: generator) * 0.3 +
                (p.dim() == 1 ? 1.0 : 0.0));
    }

    /// <summary>A standalone MoE block over seeded random experts that all differ from each other.</summary>
    public static MoeBlock Block(int hidden, int intermediate, int numExperts, int topK, long seed,
        ScalarType dtype = ScalarType.Float32)
    {
        var experts = Enumerable.Range(0, numExperts).Select(_ => new LlamaMLP(hidden, intermediate, dtype)).ToList();
        var block = new MoeBlock(experts[0], experts.Skip(1).ToList(), topK);
        Randomize(block, seed);
        return block;
    }

    public static Tensor RandomHidden(long batch, long seqLen, long hidden, long seed,
        ScalarType dtype = ScalarType.Float32)
    {
        using var generator = new Generator((ulong)seed);
        return torch.randn([batch, seqLen, hidden], dtype: dtype, generator: generator);
    }

    public static Tensor RandomIds(ModelConfig config, long batch, long seqLen, long seed)
    {
        using var generator = new Generator((ulong)seed);
        return torch.randint(0, config.VocabSize, [batch, seqLen], dtype: ScalarType.Int64, generator: generator);
    }
}

internal static class TensorAssertions
{
    /// <summary>Same shape and bit-identical values.</summary>
    public static bool IsExactly(this Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape)) return false;
        using var same = a.eq(b).all();
        return same.item<bool>();
    }
}
