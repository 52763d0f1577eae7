using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>A decoder layer's result; <see cref="RouterLogits"/> [B*T, N] float32 is set only for an MoE layer.</summary>
public sealed record DecoderLayerOutput(Tensor HiddenStates, Tensor? RouterLogits);
