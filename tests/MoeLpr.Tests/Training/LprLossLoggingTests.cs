using MoeLpr.Data;
using MoeLpr.Model;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;
using MoeLpr.Training.Losses;
using MoeLpr.Upcycling;
using TorchSharp;

namespace MoeLpr.Tests.Training;

/// <summary>
/// The logged <c>lpr_loss</c> is the mean over the logging window's old-language (layer, token) pairs: a micro-batch
/// without old-language tokens neither adds 0 to it nor counts, and a window without any logs no <c>lpr_loss</c>.
/// </summary>
public class LprLossLoggingTests
{
    const int Tokens = 12;

    [Fact]
    public void MicroBatchWithoutOldTokens_DoesNotDiluteTheLoggedLprLoss()
    {
        using var model = UpcycledModel();
        var blocks = Blocks(2);
        double expected;
        using (torch.no_grad())
        using (var ids = torch.tensor(blocks[0], [1, Tokens]))
        using (var allOld = torch.ones([1, Tokens], torch.ScalarType.Bool))
        {
            var routerLogits = model.forward(new CausalLMInput(ids)).RouterLogits;
            expected = LprLoss.Compute(routerLogits, allOld, LprLossForm.Nll).item<float>();
        }

        // Block 0 is old-language, block 1 new: one step of two micro-batches of one block each.
        var metrics = TrainOneStep(model, blocks, [true, false]);

        Assert.Equal(expected, metrics.LossPart(Stage2Policy.LprLossName)!.Value, 1e-6);
    }

    [Fact]
    public void WindowWithoutOldTokens_LogsNoLprLoss()
    {
        using var model = UpcycledModel();
        var metrics = TrainOneStep(model, Blocks(2), [false, false]);

        Assert.Null(metrics.LossPart(Stage2Policy.LprLossName));
        Assert.Equal(metrics.LmLoss, metrics.Loss, 6);   // the LPR term added exactly 0
    }

    [Fact]
    public void Pairs_CountLayersTimesOldTokens()
    {
        using var a = torch.zeros(4, 3);
        using var b = torch.zeros(4, 3);
        using var mask = torch.tensor(new[] { true, false, true, true }).reshape(2, 2);
        var (mean, pairs) = LprLoss.MeanAndPairs([a, b], mask, LprLossForm.Nll);
        using (mean)
        using (pairs)
        {
            Assert.Equal(6L, pairs.item<long>());
            Assert.Equal(Math.Log(3), mean.item<float>(), 1e-6);   // uniform over 3 experts: −log p0 = log 3
        }
    }

    static LlamaForCausalLM UpcycledModel()
    {
        var model = TinyTrainingWorkspace.NewModel(Model.TinyModels.Llama, seed: 5);
        Upcycler.Upcycle(model, new MoeConfig { NumExperts = 3, TopK = 2 }, seed: 1);
        return model;
    }

    static List<int[]> Blocks(int count)
    {
        var random = new Random(3);
        int vocab = Model.TinyModels.Llama.VocabSize;
        return Enumerable.Range(0, count)
            .Select(_ => Enumerable.Range(0, Tokens).Select(_ => random.Next(vocab)).ToArray())
            .ToList();
    }

    static TrainingMetrics TrainOneStep(LlamaForCausalLM model, List<int[]> blocks, bool[] blockIsOld)
    {
        using var temp = new TempDirectory();
        var corpus = new PackedCorpus(Tokens, blocks, blockIsOld.Select(old => Enumerable.Repeat(old, Tokens)
            .ToArray()).ToList(), [], fromCache: false);
        var options = new TrainerOptions
        {
            MaxSteps = 1, BatchSize = 1, GradientAccumulationSteps = blocks.Count, LoggingSteps = 1,
        };
        var policy = new Stage2Policy(new MoeConfig { NumExperts = 3, TopK = 2 });
        return new Trainer(model, policy, corpus, options, temp.Path, TextWriter.Null).Train().LastMetrics!;
    }
}
