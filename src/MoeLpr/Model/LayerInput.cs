using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>What attention and a decoder layer read: hidden states [B, T, h] and the rotary tables [T, headDim].</summary>
public sealed record LayerInput(Tensor HiddenStates, Tensor Cos, Tensor Sin);
