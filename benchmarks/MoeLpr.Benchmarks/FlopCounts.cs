using MoeLpr.Model;

namespace MoeLpr.Benchmarks;

/// <summary>
/// Analytic FLOP counts (a multiply-add = 2 FLOPs), D = tokens per batch, T = sequence length, B = batch:
/// <list type="bullet">
/// <item>N_active = L·(attention projections + K·3·h·I + N·h router) + h·V (lm_head); embeddings are lookups (0
/// FLOPs). Dense: K = 1, no router.</item>
/// <item>Attention scores and mixing (QKᵀ and AV, full T×T as implemented): A = L·4·B·T²·(heads·d) per
/// forward.</item>
/// <item>Forward = 2·N_active·D + A.</item>
/// <item>Training "model FLOPs" (the usual MFU convention) = 6·N_active·D + 3·A.</item>
/// <item>Training "executed FLOPs" with frozen weights ≈ 2·N_active·D (forward) + 2·N_active·D (input gradients)
/// + 2·N_trainable_active·D (weight gradients) + 3·A, where N_trainable_active assumes balanced routing (each new
/// expert is hit by K/N of the tokens). It slightly overcounts (layer 0 needs no input gradient).</item>
/// </list>
/// </summary>
public sealed record FlopCounts(long ActiveParams, long TrainableActiveParams, double Forward, double TrainingModel,
    double TrainingExecuted)
{
    /// <summary>The formula above, for the reports.</summary>
    public const string Formula =
        "Multiply-add = 2 FLOPs; D = tokens per batch, B = batch, T = sequence length, L = layers, h = hidden, " +
        "I = intermediate, V = vocab, " +
        "N = experts, K = top-K. N_active = L·(4·h·h_attn + K·3·h·I + N·h) + h·V (dense: K = 1, " +
        "no router term; embeddings are lookups). " +
        "Attention A = L·4·B·T²·h_attn per forward (QKᵀ and AV over the full T×T, as implemented). " +
        "Forward = 2·N_active·D + A. Training model FLOPs = 6·N_active·D + 3·A (the usual MFU convention). " +
        "Training executed FLOPs ≈ 4·N_active·D + 2·N_trainable_active·D + 3·A (frozen weights need input " +
        "gradients but no weight " +
        "gradients; N_trainable_active = L·(N·h + K·3·h·I·(N−1)/N) in stage 1, assuming balanced routing, " +
        "and L·N·h in stage 2). " +
        "Fraction of peak = achieved FLOP/s ÷ the FLOP/s of square matmuls measured in the same run.";

    public enum Trainable { None, Stage1RoutersAndNewExperts, Stage2RoutersOnly }

    public static FlopCounts For(ModelConfig c, int numExperts, int topK, bool moe, long batch, long seqLen,
        Trainable trainable)
    {
        long h = c.HiddenSize, inter = c.IntermediateSize, d = c.HeadDim;
        long attentionParams = h * c.NumAttentionHeads * d * 2 + h * c.KeyValueHeads * d * 2;
        long expertParams = 3 * h * inter;
        long routerParams = moe ? numExperts * h : 0;
        long mlpActive = moe ? topK * expertParams : expertParams;
        long active = c.NumHiddenLayers * (attentionParams + mlpActive + routerParams) + h * c.VocabSize;
        long trainableActive = trainable switch
        {
            Trainable.Stage1RoutersAndNewExperts =>
                c.NumHiddenLayers * (routerParams + topK * expertParams * (numExperts - 1) / numExperts),
            Trainable.Stage2RoutersOnly => c.NumHiddenLayers * routerParams,
            _ => 0,
        };
        double tokens = batch * seqLen;
        double attention = c.NumHiddenLayers * 4.0 * batch * seqLen * seqLen * c.NumAttentionHeads * d;
        return new FlopCounts(active, trainableActive,
            Forward: 2.0 * active * tokens + attention,
            TrainingModel: 6.0 * active * tokens + 3 * attention,
            TrainingExecuted: 4.0 * active * tokens + 2.0 * trainableActive * tokens + 3 * attention);
    }

    /// <summary>SwiGLU MLP (gate, up, down) on <paramref name="tokens"/> tokens: 6·h·I per token forward.</summary>
    public static double MlpForward(long hidden, long intermediate, long tokens) =>
        6.0 * hidden * intermediate * tokens;
}
