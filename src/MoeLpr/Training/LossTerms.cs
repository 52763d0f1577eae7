using static TorchSharp.torch;

namespace MoeLpr.Training;

/// <summary>
/// The loss of one micro-batch as a policy composes it: <see cref="Total"/> is what gets back-propagated; the parts
/// are unscaled (the stage-1 balance loss before <c>aux_loss_coef</c>, the LPR loss before <c>lpr_loss_coef</c>) so
/// they can be logged as the reference logs them.
/// </summary>
public sealed record LossTerms(Tensor Total, Tensor LmLoss, Tensor? AuxLoss = null, Tensor? LprLoss = null);
