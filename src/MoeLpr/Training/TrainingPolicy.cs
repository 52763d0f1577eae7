using MoeLpr.Model;
using static TorchSharp.torch;

namespace MoeLpr.Training;

/// <summary>
/// The loss of one micro-batch as a policy composes it: <see cref="Total"/> is what gets back-propagated;
/// <see cref="LmLoss"/> and the named <see cref="Parts"/> are unscaled (before their coefficients) and are logged under
/// their names in <c>metrics.jsonl</c>, as the reference logs them (stage 1: <c>aux_loss</c>, stage 2:
/// <c>lpr_loss</c>).
/// </summary>
/// <param name="PartCounts">
/// For a part that is a mean over items whose number varies by micro-batch (stage 2's <c>lpr_loss</c>: the
/// old-language (layer, token) pairs), that number, so that a logging window averages the part over its items, not
/// over its micro-batches, and leaves it out where it had none. A part not named here counts once per micro-batch.
/// </param>
public sealed record LossTerms(Tensor Total, Tensor LmLoss, IReadOnlyDictionary<string, Tensor> Parts,
    IReadOnlyDictionary<string, Tensor>? PartCounts = null)
{
    /// <summary>The plain LM loss, no other part.</summary>
    public static LossTerms LanguageModeling(Tensor lmLoss) => new(lmLoss, lmLoss, new Dictionary<string, Tensor>());
}

/// <summary>
/// What one kind of training changes and optimises: which parameters train (by state-dict name), which loss is
/// minimised, and how the trained weights are written and read back. The <see cref="Trainer"/> is the same for all
/// policies. A policy that adds parameters (e.g. LoRA) inserts them in <see cref="Prepare"/> and names them in
/// <see cref="IsTrainable"/>.
/// </summary>
public abstract class TrainingPolicy
{
    /// <summary>Short name written to trainer_state.json ("stage1", "stage2", "full", "lora").</summary>
    public abstract string Name { get; }

    /// <summary>
    /// The settings of the loss beyond the LM term (e.g. "aux_loss_coef 0.01"), written to trainer_state.json so that
    /// a resume under another loss is refused; empty when the loss is the LM loss alone.
    /// </summary>
    public virtual string LossSettings => "";

    /// <summary>
    /// Changes the model's structure before training, e.g. adds adapter modules. Called once, before freezing.
    /// </summary>
    public virtual void Prepare(LlamaForCausalLM model) { }

    /// <summary>True for the state-dict names of parameters that train; every other parameter is frozen.</summary>
    public abstract bool IsTrainable(string parameterName);

    /// <summary>The micro-batch loss from the model output and the [B, T] old-language mask.</summary>
    public abstract LossTerms ComputeLoss(CausalLMOutput output, Tensor oldLanguageMask);

    /// <summary>
    /// Writes the trained weights in this policy's release format (PEFT adapter, HF model folder, ...).
    /// </summary>
    public abstract void SaveWeights(LlamaForCausalLM model, string dir);

    /// <summary>Reads weights written by <see cref="SaveWeights"/> back into the (prepared) model, in place.</summary>
    public abstract void LoadWeights(LlamaForCausalLM model, string dir);
}
