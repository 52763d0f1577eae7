using MoeLpr.Data;
using MoeLpr.Evaluation;
using MoeLpr.Notebooks;
using TorchSharp;

namespace MoeLpr.Tests.Evaluation;

public class RoutingSummaryTests
{
    [Fact]
    public void MatricesMatchAHandCountOfTheRouterLogits()
    {
        // Two MoE layers (decoder layers 0 and 2), N = 3, K = 2. Logits chosen so the top-2 sets are obvious.
        var statistics = new RoutingStatistics([new MoeLayerInfo(0, 3, 2), new MoeLayerInfo(2, 3, 2)]);
        using var layer0A = torch.tensor(new float[] { 5, 4, 0, /**/ 0, 5, 4 }, [2, 3]);     // {0,1}, {1,2}
        using var layer2A = torch.tensor(new float[] { 5, 0, 4, /**/ 5, 4, 0 }, [2, 3]);     // {0,2}, {0,1}
        using var layer0B = torch.tensor(new float[] { 0, 5, 4 }, [1, 3]);                    // {1,2}
        using var layer2B = torch.tensor(new float[] { 4, 0, 5 }, [1, 3]);                    // {0,2}
        statistics.Add("en", [layer0A, layer2A]);
        statistics.Add("el", [layer0B, layer2B]);

        var summary = RoutingSummary.From(statistics);

        Assert.Equal(["en", "el"], summary.Languages);
        Assert.Equal([0, 2], summary.Layers);
        Assert.Equal([0.5, 1.0], summary.Expert0Selection[0]);
        Assert.Equal([0.0, 1.0], summary.Expert0Selection[1]);
        // en: expert 0 picked 3 times, 1 three times, 2 twice, of 8 decisions; el: 1, 1, 2 of 4.
        Assert.Equal([3 / 8.0, 3 / 8.0, 2 / 8.0], summary.DecisionShare[0]);
        Assert.Equal([1 / 4.0, 1 / 4.0, 2 / 4.0], summary.DecisionShare[1]);
        var p0 = torch.tensor(new float[] { 4, 0, 5 }).softmax(0)[0].item<float>();
        Assert.Equal(p0, summary.Expert0Probability[1][1], 5);
    }

    [Fact]
    public void LanguageSamplesPackEachDatasetIntoLabelledBlocks()
    {
        var tokenizer = TokenizerLoader.Load(KitDirectory.Path("data/tokenizer"));

        var samples = LanguageSamples.Load(KitDirectory.Path("data/dataset_info.json"), ["en_valid", "el_valid"],
                                           tokenizer, cutoffLen: 32, maxSamples: 1, labelOf: name => name[..2]);

        Assert.Equal(["en", "el"], samples.Select(s => s.Label));
        var registry = DatasetRegistry.Open(KitDirectory.Path("data/dataset_info.json"));
        foreach (var (sample, name) in samples.Zip(new[] { "en_valid", "el_valid" }))
        {
            var tokens = tokenizer.Encode(registry.Load(name, 1).Documents[0]).Count + 1; // + EOS
            Assert.Equal(new long[] { tokens / 32, 32 }, sample.InputIds.shape);
        }
        Assert.Throws<InvalidDataException>(() => LanguageSamples.Load(KitDirectory.Path("data/dataset_info.json"),
            ["en_valid"], tokenizer, cutoffLen: 1_000_000, maxSamples: 1));
    }
}
