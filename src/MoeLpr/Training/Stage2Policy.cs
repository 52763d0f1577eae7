using MoeLpr.Model;
using MoeLpr.Training.Losses;
using static TorchSharp.torch;

namespace MoeLpr.Training;

/// <summary>
/// Stage 2, review with language-prior routing: only the routers train (names containing
/// <c>moe_router_embedding</c>, the reference's <c>--train_only_router</c>); every expert is frozen.
/// Loss = LM + lpr_loss_coef · LPR loss, the coefficient from the adapter config
/// (<see cref="MoeConfig.ReferenceLprLossCoef"/> when it names none), and no balance loss (the reference drops the
/// stage-1 coefficient).
/// </summary>
public sealed class Stage2Policy(MoeConfig adapterConfig, LprLossForm form = LprLossForm.Nll)
    : MoeAdapterPolicy(adapterConfig with
        { AuxLossCoef = null, LprLossCoef = adapterConfig.LprLossCoef ?? MoeConfig.ReferenceLprLossCoef })
{
    /// <summary>The LPR loss's name in the logs.</summary>
    public const string LprLossName = "lpr_loss";

    public double LprLossCoef => AdapterConfig.LprLossCoef!.Value;

    public LprLossForm Form { get; } = form;

    public override string Name => "stage2";

    public override string LossSettings =>
        FormattableString.Invariant($"lpr_loss_coef {LprLossCoef:R}, lpr_loss_form {Form}");

    public override bool IsTrainable(string parameterName) => parameterName.Contains(MoeBlock.RouterMarker);

    public override LossTerms ComputeLoss(CausalLMOutput output, Tensor oldLanguageMask)
    {
        RequireMoe(output, Name);
        var lm = output.LmLoss ?? throw new InvalidOperationException("stage 2 needs labels for the LM loss");
        var (lpr, pairs) = LprLoss.MeanAndPairs(output.RouterLogits, oldLanguageMask, Form);
        return new LossTerms(lm + LprLossCoef * lpr, lm, new Dictionary<string, Tensor> { [LprLossName] = lpr },
            new Dictionary<string, Tensor> { [LprLossName] = pairs });
    }
}
