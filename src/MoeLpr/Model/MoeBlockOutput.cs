using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>MoE block result: mixed expert outputs [B, T, h] and router logits [B*T, N] float32.</summary>
public sealed record MoeBlockOutput(Tensor HiddenStates, Tensor RouterLogits);
