namespace MoeLpr.Model;

/// <summary>
/// Parameter counts of a model. <see cref="ActivePerToken"/> is what one token actually runs through: in each MoE
/// layer only K of the N experts (plus the router), so an upcycled model grows in <see cref="Total"/> while its
/// per-token compute grows only by (K − 1) experts per layer. <see cref="Trainable"/> counts parameters with
/// <c>requires_grad</c>. Stage 1 trains <see cref="Routers"/> and <see cref="NewExperts"/>; stage 2 the routers alone.
/// </summary>
public sealed record ParameterCounts(long Total, long ActivePerToken, long Trainable, long Routers, long NewExperts)
{
    public static ParameterCounts Of(LlamaForCausalLM model)
    {
        long total = 0, trainable = 0;
        foreach (var (_, parameter) in model.named_parameters())
        {
            total += parameter.numel();
            if (parameter.requires_grad) trainable += parameter.numel();
        }
        long inactive = 0, routers = 0, newExperts = 0;
        foreach (var block in model.MoeBlocks)
        {
            long expertSize = block.Expert(0).parameters().Sum(p => p.numel());
            inactive += (block.NumExperts - block.TopK) * expertSize;
            routers += block.RouterWeight.numel();
            newExperts += (block.NumExperts - 1) * expertSize;
        }
        return new ParameterCounts(total, total - inactive, trainable, routers, newExperts);
    }
}
