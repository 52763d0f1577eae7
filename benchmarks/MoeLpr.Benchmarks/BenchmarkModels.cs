using MoeLpr.Model;

namespace MoeLpr.Benchmarks;

/// <summary>The fixed tiny-LLaMA configurations the benchmark measures.</summary>
public sealed record BenchmarkModels(ModelConfig Model, MoeConfig Moe, int Batch, int SeqLen, ModelConfig LeakModel,
    int LeakBatch, int LeakSeqLen, int LeakSteps)
{
    public int TokensPerBatch => Batch * SeqLen;

    /// <summary>Seeds of the measured model's initial weights and of its upcycling: every section that builds the
    /// model builds the same one.</summary>
    public const int ModelSeed = 1, UpcycleSeed = 3;

    /// <summary>
    /// hidden 512, intermediate 1408, 4 layers, 8 heads, vocab 8192; batch 8 × seq 512 = 4,096 tokens.
    /// </summary>
    public static BenchmarkModels Full => new(
        Llama(hidden: 512, intermediate: 1408, layers: 4, heads: 8, vocab: 8192), FourExpertsTopTwo(), Batch: 8,
        SeqLen: 512, Leak, LeakBatch: 4, LeakSeqLen: 64, LeakSteps: 1000);

    /// <summary>
    /// The paper's layer size: Qwen1.5-1.8B's MLP (hidden 2048, intermediate 5504, 16 heads of 128) with 6 experts
    /// top-2, two layers, the benchmark's vocabulary (Qwen's 151,936 would make lm_head dominate); 4,096 tokens.
    /// </summary>
    public static BenchmarkModels Paper => new(
        Llama(hidden: 2048, intermediate: 5504, layers: 2, heads: 16, vocab: 8192),
        new MoeConfig { NumExperts = 6, TopK = 2, AuxLossCoef = 0.01, LprLossCoef = 0.1 }, Batch: 8, SeqLen: 512,
        Leak, LeakBatch: 4, LeakSeqLen: 64, LeakSteps: 1000);

    public static BenchmarkModels For(string size) => size switch
    {
        "quick" => Quick, "paper" => Paper, _ => Full,
    };

    /// <summary>A smoke-sized run (seconds) to check that every section works.</summary>
    public static BenchmarkModels Quick => new(
        Llama(hidden: 128, intermediate: 352, layers: 2, heads: 4, vocab: 1024), FourExpertsTopTwo(), Batch: 4,
        SeqLen: 128, Leak, LeakBatch: 4, LeakSeqLen: 64, LeakSteps: 200);

    /// <summary>The small model for the 1,000-step leak run (must finish in well under 2 minutes on 2 cores).</summary>
    static ModelConfig Leak => Llama(hidden: 64, intermediate: 176, layers: 2, heads: 4, vocab: 512);

    static MoeConfig FourExpertsTopTwo() => new() { NumExperts = 4, TopK = 2, AuxLossCoef = 0.01, LprLossCoef = 0.1 };

    static ModelConfig Llama(int hidden, int intermediate, int layers, int heads, int vocab) => new()
    {
        ModelType = "llama", VocabSize = vocab, HiddenSize = hidden, IntermediateSize = intermediate,
        NumHiddenLayers = layers, NumAttentionHeads = heads, NumKeyValueHeads = heads, RmsNormEps = 1e-6,
        RopeTheta = 10000, TieWordEmbeddings = false,
    };
}
