using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>
/// Output of <see cref="LlamaForCausalLM"/>: logits [B, T, V] float32, the shifted LM cross-entropy when labels were
/// given, and the router logits [B*T, N] float32 of each MoE layer in layer order (empty for a dense model).
/// </summary>
public sealed record CausalLMOutput(Tensor Logits, Tensor? LmLoss, IReadOnlyList<Tensor> RouterLogits);
