using MoeLpr.Checkpoints;
using MoeLpr.Model;
using static TorchSharp.torch;

namespace MoeLpr.Training;

/// <summary>
/// Every parameter trains with the plain LM loss: pretraining the tiny base model and the full fine-tuning baseline.
/// Output is a dense HF model folder.
/// </summary>
public sealed class FullFineTunePolicy : TrainingPolicy
{
    public override string Name => "full";

    public override bool IsTrainable(string parameterName) => true;

    public override LossTerms ComputeLoss(CausalLMOutput output, Tensor oldLanguageMask)
    {
        var lm = output.LmLoss ?? throw new InvalidOperationException("full fine-tuning needs labels for the LM loss");
        return LossTerms.LanguageModeling(lm);
    }

    public override void SaveWeights(LlamaForCausalLM model, string dir) => HfModelDirectory.Save(model, dir);

    public override void LoadWeights(LlamaForCausalLM model, string dir) =>
        StateDictLoader.Load(model.state_dict(), SafeTensorsCheckpoint.Open(dir, HfModelDirectory.WeightsFileName));
}
