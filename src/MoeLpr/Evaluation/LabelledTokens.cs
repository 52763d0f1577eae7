using static TorchSharp.torch;

namespace MoeLpr.Evaluation;

/// <summary>
/// A batch of token ids [B, T] that belong to one language or dataset (<paramref name="Label"/>), for routing statistics.
/// <paramref name="TokenMask"/> [B, T] bool, when given, keeps only the true positions (e.g. to skip padding).
/// </summary>
public sealed record LabelledTokens(string Label, Tensor InputIds, Tensor? TokenMask = null);
