using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Model;

/// <summary>
/// Inference over a model until disposed: eval mode (LoRA dropout off) and no gradient tape; then the model's previous
/// mode comes back, so an evaluation in the middle of training leaves it training. Every evaluator enters it:
/// <c>using var _ = EvaluationMode.Enter(model);</c>
/// </summary>
public sealed class EvaluationMode : IDisposable
{
    readonly nn.Module model;
    readonly bool wasTraining;
    readonly IDisposable noGrad;

    EvaluationMode(nn.Module model)
    {
        this.model = model;
        wasTraining = model.training;
        model.eval();
        noGrad = torch.no_grad();
    }

    public static EvaluationMode Enter(nn.Module model) => new(model);

    public void Dispose()
    {
        noGrad.Dispose();
        model.train(wasTraining);
    }
}
