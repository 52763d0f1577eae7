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
        if (routerLogits.Count == 0)
            throw new ArgumentException("no router logits: the model has no MoE layer", nameof(routerLogits));
        using var scope = torch.NewDisposeScope();
        var stacked = torch.stack(routerLogits.ToArray());
        var logits = stacked.to_type(Precision.AtLeastFloat32(stacked.dtype));          // [L, B*T, N]
        if (oldLanguageMask.numel() != logits.shape[1])
            throw new ArgumentException(
                $"old-language mask has {oldLanguageMask.numel()} tokens, router logits {logits.shape[1]}");
        var oldTokens = oldLanguageMask.reshape(-1).to(logits.device).to_type(ScalarType.Bool).nonzero().squeeze(1);
        if (oldTokens.shape[0] == 0)
            return (logits.sum() * 0).MoveToOuterDisposeScope();

        var old = logits.index_select(1, oldTokens);                                    // [L, M, N]
        var perToken = form switch
        {
            LprLossForm.Nll => -old.log_softmax(-1).select(-1, 0),
            LprLossForm.Reference => ReferenceForm(old.softmax(-1)),
            _ => throw new ArgumentOutOfRangeException(nameof(form), form, null),
        };
        return perToken.mean().MoveToOuterDisposeScope();
    }

    /// <summary>CrossEntropy(probabilities as logits, target 0) = −p_0 + log Σ_e exp(p_e).</summary>
    private static Tensor ReferenceForm(Tensor probabilities) =>
        probabilities.logsumexp(-1) - probabilities.select(-1, 0);
}
