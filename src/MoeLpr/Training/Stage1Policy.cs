using MoeLpr.Model;
using MoeLpr.Training.Losses;
using static TorchSharp.torch;

namespace MoeLpr.Training;

/// <summary>
/// Stage 1, post-pretraining on new-language text: routers and new experts train (names containing <c>moe_</c>, as
/// the reference's <c>_mark_only_adapters_as_trainable</c>); embeddings, attention, norms, lm_head and expert 0 stay
/// frozen. Loss = LM + aux_loss_coef · load-balancing loss, the coefficient from the adapter config
/// (<see cref="MoeConfig.ReferenceAuxLossCoef"/> when it names none).
/// </summary>
public sealed class Stage1Policy(MoeConfig adapterConfig)
    : MoeAdapterPolicy(adapterConfig with
        { AuxLossCoef = adapterConfig.AuxLossCoef ?? MoeConfig.ReferenceAuxLossCoef, LprLossCoef = null })
{
    /// <summary>The balance loss's name in the logs (the reference's trainer logs it as <c>load_balance__loss</c>).
    /// </summary>
    public const string AuxLossName = "aux_loss";

    public double AuxLossCoef => AdapterConfig.AuxLossCoef!.Value;

    public override string Name => "stage1";

    public override string LossSettings => FormattableString.Invariant($"aux_loss_coef {AuxLossCoef:R}");

    public override bool IsTrainable(string parameterName) => parameterName.Contains(MoeBlock.AdapterMarker);

    public override LossTerms ComputeLoss(CausalLMOutput output, Tensor oldLanguageMask)
    {
        RequireMoe(output, Name);
        var lm = output.LmLoss ?? throw new InvalidOperationException("stage 1 needs labels for the LM loss");
        var aux = LoadBalancingLoss.Compute(output.RouterLogits, AdapterConfig.NumExperts, AdapterConfig.TopK);
        return new LossTerms(lm + AuxLossCoef * aux, lm, new Dictionary<string, Tensor> { [AuxLossName] = aux });
    }
}
