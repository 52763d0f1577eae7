using MoeLpr.Checkpoints;
using MoeLpr.Model;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Training;
using MoeLpr.Upcycling;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Training;

/// <summary>Stage 1 changes only new experts and routers; stage 2 changes only routers. Checked bit for bit.</summary>
public class StageFreezingTests
{
    [Fact]
    public void Stage1_KeepsEveryFrozenTensor_AndStage2_ChangesOnlyRouters()
    {
        using var ws = new TinyTrainingWorkspace();
        string stage1 = ws.Output("stage1"), stage2 = ws.Output("stage2");
        var wallClock = System.Diagnostics.Stopwatch.StartNew();
        var first = TrainingRun.Run(ws.Options(TrainingStage.Stage1, stage1, "new_text"), TextWriter.Null);
        double wallSeconds = wallClock.Elapsed.TotalSeconds;
        Assert.True(first.Completed);

        using var dense = HfModelDirectory.Load(ws.ModelDir);
        var (afterStage1, config) = ModelWithAdapter.Load(ws.ModelDir, stage1, null);
        using (afterStage1)
        {
            var denseWeights = dense.state_dict();
            foreach (var (key, tensor) in afterStage1.state_dict().Where(p => !p.Key.Contains("moe_")))
            {
                string denseKey = key.Replace(".mlp.base_layer.", ".mlp.");
                Assert.True(TinyCheckpoints.BytesOf(tensor)
                    .SequenceEqual(TinyCheckpoints.BytesOf(denseWeights[denseKey])), $"stage 1 changed frozen {key}");
            }

            // Every new expert and router moved away from its upcycled start (same seed as the run).
            using var upcycled = HfModelDirectory.Load(ws.ModelDir);
            Upcycler.Upcycle(upcycled, config!, seed: 7);
            var start = upcycled.state_dict();
            foreach (var (key, tensor) in afterStage1.state_dict().Where(p => p.Key.Contains("moe_")))
                Assert.False(TinyCheckpoints.BytesOf(tensor).SequenceEqual(TinyCheckpoints.BytesOf(start[key])),
                    $"stage 1 did not train {key}");
            Assert.Equal(0.01, config!.AuxLossCoef);

            var second = TrainingRun.Run(ws.Options(TrainingStage.Stage2, stage2, "new_text,old_text", adapter: stage1),
                TextWriter.Null);
            Assert.True(second.Completed);
            var (afterStage2, config2) = ModelWithAdapter.Load(ws.ModelDir, stage2, null);
            using (afterStage2)
            {
                Assert.Null(config2!.AuxLossCoef);
                Assert.Equal(0.1, config2.LprLossCoef);
                var stage1Weights = afterStage1.state_dict();
                int routers = 0;
                foreach (var (key, tensor) in afterStage2.state_dict())
                {
                    bool same = TinyCheckpoints.BytesOf(tensor)
                        .SequenceEqual(TinyCheckpoints.BytesOf(stage1Weights[key]));
                    if (key.Contains("moe_router_embedding"))
                    {
                        Assert.False(same, $"stage 2 did not train {key}");
                        routers++;
                    }
                    else Assert.True(same, $"stage 2 changed frozen {key}");
                }
                Assert.Equal(2, routers);
            }
        }
        var stage1Lines = MetricsFile.Read(Path.Combine(stage1, MetricsFile.FileName));
        AssertStage1Metrics(stage1Lines);
        // elapsed_s is the run's own clock: it grows with every step and never exceeds the wall time around the run.
        Assert.True(stage1Lines.Zip(stage1Lines.Skip(1)).All(p => p.Second.ElapsedSeconds >= p.First.ElapsedSeconds));
        Assert.True(stage1Lines[^1].ElapsedSeconds <= wallSeconds,
            $"elapsed_s {stage1Lines[^1].ElapsedSeconds} > wall {wallSeconds}");
        AssertStage2Metrics(MetricsFile.Read(Path.Combine(stage2, MetricsFile.FileName)));
    }

    /// <summary>
    /// One line per step (logging every step): the cosine lr, the balance loss, router probabilities per expert.
    /// </summary>
    static void AssertStage1Metrics(IReadOnlyList<TrainingMetrics> lines)
    {
        Assert.Equal([1, 2, 3, 4], lines.Select(m => m.Step));
        for (int i = 0; i < lines.Count; i++)
        {
            var m = lines[i];
            Assert.Equal(LearningRateSchedule.Cosine(1e-2, i, 4, 0), m.LearningRate, 12);
            Assert.Equal(m.LmLoss + 0.01 * m.LossPart("aux_loss")!.Value, m.Loss, 5);
            Assert.Null(m.LossPart("lpr_loss"));
            Assert.Equal(3, m.ExpertProbability!.Length);
            Assert.Equal(1.0, m.ExpertProbability.Sum(), 5);
            Assert.Null(m.OldLanguageExpert0Probability); // stage-1 data is new-language only
            Assert.True(m.GradNorm > 0 && m.TokensPerSecond > 0 && m.ElapsedSeconds > 0);
        }
    }

    /// <summary>
    /// Stage 2 logs the unscaled LPR loss and, per MoE layer, the old-language share of expert 0, both where the
    /// window had old-language tokens (one micro-batch per line here, so the loss is LM + 0.1 · LPR exactly).
    /// </summary>
    static void AssertStage2Metrics(IReadOnlyList<TrainingMetrics> lines)
    {
        Assert.Equal(4, lines.Count);
        foreach (var m in lines)
        {
            Assert.Null(m.LossPart("aux_loss"));
            Assert.Equal(m.OldLanguageExpert0Probability is not null, m.LossPart("lpr_loss") is not null);
            Assert.Equal(m.LmLoss + 0.1 * (m.LossPart("lpr_loss") ?? 0), m.Loss, 5);
        }
        var withOld = lines.Where(m => m.OldLanguageExpert0Probability is not null).ToList();
        Assert.NotEmpty(withOld);
        foreach (var m in withOld)
        {
            Assert.Equal(2, m.OldLanguageExpert0Probability!.Length);
            Assert.Equal(2, m.OldLanguageExpert0Selected!.Length);
            Assert.All(m.OldLanguageExpert0Probability.Concat(m.OldLanguageExpert0Selected),
                v => Assert.InRange(v, 0.0, 1.0));
        }
    }

    [Fact]
    public void Stage2_BatchWithoutOldLanguageTokens_HasFiniteLossAndGradients()
    {
        using var model = TinyTrainingWorkspace.NewModel(Model.TinyModels.Llama, seed: 5);
        var config = new MoeConfig { NumExperts = 3, TopK = 2 };
        Upcycler.Upcycle(model, config, seed: 1);
        var policy = new Stage2Policy(config);
        model.SetTrainable(policy.IsTrainable);
        using var ids = Model.TinyModels.RandomIds(model.Config, 2, 8, seed: 2);
        using var noOld = zeros([2, 8], ScalarType.Bool);
        var output = model.forward(new CausalLMInput(ids, ids, noOld));
        var terms = policy.ComputeLoss(output, noOld);
        Assert.True(float.IsFinite(terms.Total.item<float>()));
        Assert.Equal(0f, terms.Parts["lpr_loss"].item<float>());
        terms.Total.backward();
        foreach (var block in model.MoeBlocks)
            Assert.True(block.RouterWeight.grad!.isfinite().all().item<bool>());
    }
}
