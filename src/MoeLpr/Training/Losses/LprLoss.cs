using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Training.Losses;

/// <summary>Which language-prior routing loss to use for old-language tokens.</summary>
public enum LprLossForm
{
    /// <summary>The paper's cross-entropy of the router distribution against expert 0: −log p_0.</summary>
    Nll,
    /// <summary>
    /// The released code's form: CrossEntropy on the probabilities again, −p_0 + log Σ_e exp(p_e).
    /// </summary>
    Reference,
}

/// <summary>
/// Language-prior routing loss (stage 2): pushes old-language tokens to expert 0 (the frozen original MLP).
/// Mean over every (MoE layer, old-language token) pair of the per-token loss chosen by <see cref="LprLossForm"/>.
/// New-language tokens contribute nothing; a batch without old-language tokens yields 0 (still part of the graph),
/// where the reference code would produce NaN.
/// </summary>
public static class LprLoss
{
    /// <summary>A form as reports name it.</summary>
    public static string Describe(LprLossForm form) => form switch
    {
        LprLossForm.Nll => "−log p0",
        LprLossForm.Reference => "the released code's cross-entropy on probabilities",
        _ => form.ToString(),
    };

    /// <param name="routerLogits">Per MoE layer [B*T, N].</param>
    /// <param name="oldLanguageMask">[B, T] (or [B*T]) bool/0-1: true for tokens of old-language documents.</param>
    public static Tensor Compute(IReadOnlyList<Tensor> routerLogits, Tensor oldLanguageMask, LprLossForm form)
    {
        var (mean, pairs) = MeanAndPairs(routerLogits, oldLanguageMask, form);
        pairs.Dispose();
        return mean;
    }

    /// <summary>
    /// <see cref="Compute"/>'s mean and how many (MoE layer, old-language token) pairs it averages over, an int64
    /// scalar left on the device (a CUDA graph records it; a training log weights the mean by it).
    /// </summary>
    public static (Tensor Mean, Tensor Pairs) MeanAndPairs(IReadOnlyList<Tensor> routerLogits,
        Tensor oldLanguageMask, LprLossForm form)
    {
        if (routerLogits.Count == 0)
            throw new ArgumentException("no router logits: the model has no MoE layer", nameof(routerLogits));
        using var scope = torch.NewDisposeScope();
        var stacked = torch.stack(routerLogits.ToArray());
        var logits = stacked.to_type(Precision.AtLeastFloat32(stacked.dtype));          // [L, B*T, N]
        if (oldLanguageMask.numel() != logits.shape[1])
            throw new ArgumentException(
                $"old-language mask has {oldLanguageMask.numel()} tokens, router logits {logits.shape[1]}");
        // A masked mean rather than a selection: selecting the old tokens (nonzero) would read their count back to the
        // host, making the host wait for the device at every micro-batch, and a CUDA graph could not record it.
        var old = oldLanguageMask.reshape(1, -1).to(logits.device).to_type(ScalarType.Bool);     // [1, B*T]
        var perToken = form switch                                                                // [L, B*T]
        {
            LprLossForm.Nll => -logits.log_softmax(-1).select(-1, 0),
            LprLossForm.Reference => ReferenceForm(logits.softmax(-1)),
            _ => throw new ArgumentOutOfRangeException(nameof(form), form, null),
        };
        // where, not a product: a new-language token whose p_0 is 0 has an infinite −log p_0, and ∞·0 is NaN.
        var sum = torch.where(old, perToken, torch.zeros_like(perToken)).sum();
        var pairs = old.sum() * logits.shape[0];
        var mean = sum / pairs.to_type(sum.dtype).clamp_min(1);
        return (mean.MoveToOuterDisposeScope(), pairs.MoveToOuterDisposeScope());
    }

    /// <summary>CrossEntropy(probabilities as logits, target 0) = −p_0 + log Σ_e exp(p_e).</summary>
    private static Tensor ReferenceForm(Tensor probabilities) =>
        probabilities.logsumexp(-1) - probabilities.select(-1, 0);
}
