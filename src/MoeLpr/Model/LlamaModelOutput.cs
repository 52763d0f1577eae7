using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>Final-norm hidden states [B, T, h] and the router logits of each MoE layer, in layer order.</summary>
public sealed record LlamaModelOutput(Tensor HiddenStates, IReadOnlyList<Tensor> RouterLogits);
