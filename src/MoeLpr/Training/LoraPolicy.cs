using MoeLpr.Checkpoints;
using MoeLpr.Model;
using static TorchSharp.torch;

namespace MoeLpr.Training;

/// <summary>
/// The LoRA baseline: <see cref="Prepare"/> wraps the configured linear layers in <see cref="LoraLinear"/> (seeded),
/// only parameters named <c>lora_</c> train, the loss is the plain LM loss, and the output is a PEFT LoRA adapter.
/// </summary>
public sealed class LoraPolicy(LoraConfig config, long seed) : TrainingPolicy
{
    public LoraConfig Config { get; } = config;

    public override string Name => "lora";

    /// <summary>
    /// Adds the adapters unless the model already has them (a resumed run, or a model loaded with one).
    /// </summary>
    public override void Prepare(LlamaForCausalLM model)
    {
        if (!model.state_dict().Keys.Any(k => k.Contains(LoraLinear.AdapterMarker)))
            LoraInjector.Inject(model, Config, seed);
    }

    public override bool IsTrainable(string parameterName) => parameterName.Contains(LoraLinear.AdapterMarker);

    public override LossTerms ComputeLoss(CausalLMOutput output, Tensor oldLanguageMask)
    {
        var lm = output.LmLoss ?? throw new InvalidOperationException("LoRA training needs labels for the LM loss");
        return LossTerms.LanguageModeling(lm);
    }

    public override void SaveWeights(LlamaForCausalLM model, string dir) => LoraAdapter.Save(model, Config, dir);

    public override void LoadWeights(LlamaForCausalLM model, string dir) =>
        StateDictLoader.Load(LoraAdapter.Targets(model),
            SafeTensorsCheckpoint.Open(dir, PeftAdapterFiles.WeightsFileName));
}
