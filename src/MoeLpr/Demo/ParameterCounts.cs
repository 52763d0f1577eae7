using MoeLpr.Model;

namespace MoeLpr.Demo;

/// <summary>Total and per-token (active) parameter counts, as the paper's tables state them.</summary>
public static class ParameterCounts
{
    public static long Total(LlamaForCausalLM model) => model.parameters().Sum(p => p.numel());

    /// <summary>Total minus the experts a token does not use: (N − K) experts per MoE layer.</summary>
    public static long Active(LlamaForCausalLM model) =>
        Total(model) - model.MoeBlocks.Sum(block => (block.NumExperts - block.TopK) * block.Expert(0).parameters().Sum(p => p.numel()));

    public static long Trainable(LlamaForCausalLM model) => model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
}
