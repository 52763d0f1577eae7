using MoeLpr.Checkpoints;
using MoeLpr.Data;
using MoeLpr.Evaluation;
using MoeLpr.Model;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;
using TorchSharp;
using Xunit.Abstractions;

namespace MoeLpr.Tests.Training;

/// <summary>
/// The shipped toy example (datasets <c>moelpr_zh</c> = old, <c>moelpr_ja</c> = new) at toy size: a tiny dense model
/// pretrained on Chinese is the base; stage 1 must lower the Japanese loss, stage 2 must send more Chinese tokens to
/// expert 0 (the original MLP).
/// </summary>
public class ToyExampleTests(ITestOutputHelper log)
{
    const int Docs = 8, Cutoff = 64;

    [Fact]
    public void Stage1_LowersJapaneseLoss_Stage2_RaisesChineseShareOfExpert0()
    {
        string info = Path.Combine(RepoRoot(), "data", "dataset_info.json");
        using var temp = new TempDirectory();
        var registry = DatasetRegistry.Open(info);
        var zh = registry.Load("moelpr_zh", Docs);
        var ja = registry.Load("moelpr_ja", Docs);

        string init = temp.File("init"), baseDir = temp.File("base"), stage1 = temp.File("stage1"),
            stage2 = temp.File("stage2");
        var bpe = BpeTrainer.Train(zh.Documents.Concat(ja.Documents), vocabSize: 300);
        bpe.Save(init);
        var config = new ModelConfig
        {
            ModelType = "llama", VocabSize = bpe.VocabSize, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2,
            NumAttentionHeads = 4, NumKeyValueHeads = 2, EosTokenId = bpe.EndOfTextId,
        };
        using (var dense = TinyTrainingWorkspace.NewModel(config, seed: 11)) HfModelDirectory.Save(dense, init);

        var common = new TrainingOptions
        {
            ModelDir = baseDir, Datasets = ["moelpr_zh"], DatasetInfo = info, OutputDir = baseDir, MaxSamples = Docs,
            CutoffLen = Cutoff, NumExperts = 3, TopK = 2, Device = "cpu", Threads = 1,
            Optimization = new() { BatchSize = 4, LearningRate = 1e-2, LoggingSteps = 10, Seed = 5 },
        };
        TrainingRun.Run(common with
        {
            Stage = TrainingStage.Full, ModelDir = init, Optimization = common.Optimization with
            {
                LearningRate = 5e-3, MaxSteps = 40,
            },
        }, TextWriter.Null);

        double jaBefore = JapaneseNll(baseDir, adapter: null, info);
        TrainingRun.Run(common with
        {
            Stage = TrainingStage.Stage1, Datasets = ["moelpr_ja"], OutputDir = stage1,
                Optimization = common.Optimization with
            {
                MaxSteps = 30,
            },
        }, TextWriter.Null);
        double jaAfter = JapaneseNll(baseDir, stage1, info);
        Assert.True(jaAfter < jaBefore - 0.1,
            $"stage 1 should lower the ja loss: {jaBefore:0.000} → {jaAfter:0.000}");

        var tokenizer = TokenizerLoader.Load(baseDir);
        var zhBlocks = CorpusPacker.Pack([zh], tokenizer, Cutoff);
        var (p0Before, selectedBefore) = ChineseExpert0Share(baseDir, stage1, zhBlocks);
        TrainingRun.Run(common with
        {
            Stage = TrainingStage.Stage2, Datasets = ["moelpr_ja", "moelpr_zh"], AdapterDir = stage1,
            OutputDir = stage2, Optimization = common.Optimization with { MaxSteps = 30 },
        }, TextWriter.Null);
        var (p0After, selectedAfter) = ChineseExpert0Share(baseDir, stage2, zhBlocks);
        log.WriteLine($"ja NLL {jaBefore:0.000} -> {jaAfter:0.000}; zh p0 {p0Before:0.000} -> {p0After:0.000}; " +
                      $"zh expert-0 selected {selectedBefore:0.000} -> {selectedAfter:0.000}");
        Assert.True(p0After > p0Before + 0.05, $"stage 2 should raise zh p0: {p0Before:0.000} → {p0After:0.000}");
        Assert.True(selectedAfter >= selectedBefore, $"stage 2 should not lower the zh expert-0 selection rate: " +
                                                     $"{selectedBefore:0.000} → {selectedAfter:0.000}");
    }

    static double JapaneseNll(string baseDir, string? adapter, string info) =>
        EvaluationRun.Run(new EvaluationOptions
        {
            ModelDir = baseDir, AdapterDir = adapter, Datasets = ["moelpr_ja"], DatasetInfo = info, MaxSamples = Docs,
            CutoffLen = Cutoff, BatchSize = 16, Device = "cpu", Threads = 1,
        })["moelpr_ja"].MeanNll;

    /// <summary>Mean over layers of the zh tokens' expert-0 probability and top-K selection rate.</summary>
    static (double P0, double Selected) ChineseExpert0Share(string baseDir, string adapter, PackedCorpus zhBlocks)
    {
        var (model, config) = ModelWithAdapter.Load(baseDir, adapter, null);
        using (model)
        {
            model.eval();
            using var statistics = new RoutingWindow(config!.TopK);
            using var noGrad = torch.no_grad();
            for (int start = 0; start < zhBlocks.Count; start += 16)
            {
                using var scope = torch.NewDisposeScope();
                var (ids, old) = zhBlocks.MakeBatch(
                    Enumerable.Range(start, Math.Min(16, zhBlocks.Count - start)).ToArray());
                statistics.Add(model.forward(new CausalLMInput(ids)).RouterLogits, old);
            }
            return (statistics.OldLanguageExpert0Probability!.Average(),
                statistics.OldLanguageExpert0Selected!.Average());
        }
    }

    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MoeLpr.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no MoeLpr.sln above {AppContext.BaseDirectory}");
    }
}
