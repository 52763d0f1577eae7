using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>
/// Input of <see cref="LlamaForCausalLM"/>: token ids [B, T] int64; optional labels [B, T] (−100 = ignored; the
/// model shifts them itself, so labels may simply be a copy of the ids); optional old-language mask [B, T] bool,
/// carried for the LPR loss and ignored by the forward pass.
/// </summary>
public sealed record CausalLMInput(Tensor InputIds, Tensor? Labels = null, Tensor? OldLanguageMask = null);
