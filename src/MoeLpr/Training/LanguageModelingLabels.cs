using MoeLpr.Model;
using static TorchSharp.torch;

namespace MoeLpr.Training;

/// <summary>LM labels for packed blocks: the ids themselves (the model shifts them), with masked ids set to −100.</summary>
public static class LanguageModelingLabels
{
    /// <param name="maskedTokenId">EOS = pad in the reference, whose collator drops pad targets; null keeps all.</param>
    public static Tensor From(Tensor inputIds, int? maskedTokenId) =>
        maskedTokenId is int id
            ? inputIds.masked_fill(inputIds.eq(id), FillValues.IgnoreIndex)
            : inputIds.clone();
}
