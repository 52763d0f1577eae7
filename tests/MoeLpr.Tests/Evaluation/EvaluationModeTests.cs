using MoeLpr.Evaluation;
using MoeLpr.Model;
using MoeLpr.Tests.Model;
using TorchSharp;

namespace MoeLpr.Tests.Evaluation;

/// <summary>
/// Evaluators score a model as it is, not as it happens to be used: a LoRA model trained with dropout, handed over in
/// training mode (as a freshly loaded model is), scores the same as in eval mode and stays in training mode.
/// </summary>
public class EvaluationModeTests
{
    [Fact]
    public void ALoraModelWithDropoutScoresWithoutItAndKeepsTraining()
    {
        using var model = TinyModels.Create(TinyModels.Llama, seed: 4);
        LoraInjector.Inject(model, new LoraConfig { Rank = 4, Alpha = 8, Dropout = 0.5 }, seed: 4);
        // lora_B starts at zero (PEFT's initialisation): give it values so that the branch, and its dropout, count.
        using (var generator = new torch.Generator(5))
        using (torch.no_grad())
            foreach (var (name, parameter) in model.named_parameters())
                if (name.Contains("lora_B", StringComparison.Ordinal)) parameter.normal_(0, 0.5, generator);
        (int[], int[])[] requests = [([1, 2, 3, 4], [5, 6]), ([7, 8], [9]), ([10, 11, 12], [13, 14, 15])];

        model.eval();
        var expected = ContinuationScorer.Score(model, requests);
        model.train();
        var first = ContinuationScorer.Score(model, requests);
        var second = ContinuationScorer.Score(model, requests);

        Assert.Equal(expected, first);
        Assert.Equal(expected, second);
        Assert.True(model.training, "the model is handed back in training mode");
    }
}
