using MoeLpr.Checkpoints;
using MoeLpr.Training;
using MoeLpr.Training.Pretraining;
using TorchSharp;

namespace MoeLpr.Tests.Training;

public sealed class PretrainerTests
{
    static PretrainingOptions Options(TinyTrainingWorkspace workspace, string output) => new()
    {
        TokenizerDir = workspace.ModelDir, Datasets = ["old_text"], DatasetInfo = workspace.DatasetInfo,
        OutputDir = output, HiddenSize = 32, NumLayers = 1, NumAttentionHeads = 4, NumKeyValueHeads = 2,
        IntermediateSize = 64, CutoffLen = 32, Device = "cpu", Threads = 1, CommandLine = "moelpr pretrain --test",
        Optimization = new TrainerOptions
        {
            BatchSize = 4, MaxSteps = 12, WarmupSteps = 2, LoggingSteps = 3, LearningRate = 1e-2, Seed = 9,
        },
    };

    [Fact]
    public void PretrainsASeededModelWithTokenizerAndModelCard()
    {
        using var workspace = new TinyTrainingWorkspace();
        var first = Pretrainer.Run(Options(workspace, workspace.Output("first")), TextWriter.Null);
        var second = Pretrainer.Run(Options(workspace, workspace.Output("second")), TextWriter.Null);

        Assert.True(first.Training.Completed);
        string card = File.ReadAllText(Path.Combine(workspace.Output("first"), "README.md"));
        // 12 steps of 4 blocks, where an epoch's last micro-batch holds only what is left of its blocks.
        int blocks = int.Parse(card.Split('\n').Single(line => line.StartsWith("| old_text |")).Split('|')[4]);
        int perEpoch = (blocks + 3) / 4;
        Assert.NotEqual(0, blocks % 4);   // the case the count must get right
        Assert.Equal((12 / perEpoch * blocks + 12 % perEpoch * 4) * 32L, first.TokensSeen);
        foreach (var file in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "README.md", MetricsFile.FileName })
            Assert.True(File.Exists(Path.Combine(workspace.Output("first"), file)), file);
        var metrics = MetricsFile.Read(Path.Combine(workspace.Output("first"), MetricsFile.FileName));
        Assert.True(metrics[^1].LmLoss < metrics[0].LmLoss - 0.5, $"loss {metrics[0].LmLoss} → {metrics[^1].LmLoss}");
        Assert.Contains("moelpr pretrain --test", card);
        Assert.Contains("old_text", card);
        Assert.Contains($"The datasets of `{workspace.DatasetInfo}` below", card);
        Assert.Contains($"CPU cores, {torch.get_num_threads()} libtorch threads", card);

        using var a = HfModelDirectory.Load(workspace.Output("first"));
        using var b = HfModelDirectory.Load(workspace.Output("second"));
        Assert.Equal(first.Parameters, a.parameters().Sum(p => p.numel()));
        Assert.True(a.Config.TieWordEmbeddings);
        var weightsB = b.state_dict();
        Assert.All(a.state_dict(), p => Assert.True(p.Value.allclose(weightsB[p.Key], rtol: 0, atol: 0),
            $"{p.Key} differs between two runs with the same seed"));
    }
}
