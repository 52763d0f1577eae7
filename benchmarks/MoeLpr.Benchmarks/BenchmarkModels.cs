using MoeLpr.Model;

namespace MoeLpr.Benchmarks;

/// <summary>The fixed tiny-LLaMA configurations the benchmark measures.</summary>
public sealed record BenchmarkModels(ModelConfig Model, MoeConfig Moe, int Batch, int SeqLen, ModelConfig LeakModel,
    int LeakBatch, int LeakSeqLen, int LeakSteps)
{
    public int TokensPerBatch => Batch * SeqLen;

    /// <summary>
    /// hidden 512, intermediate 1408, 4 layers, 8 heads, vocab 8192; batch 8 × seq 512 = 4,096 tokens.
    /// </summary>
    public static BenchmarkModels Full => new(
        Llama(hidden: 512, intermediate: 1408, layers: 4, heads: 8, vocab: 8192), FourExpertsTopTwo(), Batch: 8,
        SeqLen: 512, Leak, LeakBatch: 4, LeakSeqLen: 64, LeakSteps: 1000);

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
