using MoeLpr.Checkpoints;
using MoeLpr.Data;
using MoeLpr.Model;
using MoeLpr.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Training;

public sealed class LoraPolicyTests
{
    static readonly LoraConfig Config = new() { Rank = 2, Alpha = 4 };

    static Tensor Logits(LlamaForCausalLM model, Tensor ids)
    {
        using var noGrad = torch.no_grad();
        return model.forward(new CausalLMInput(ids)).Logits;
    }

    [Fact]
    public void FreshAdapterReproducesTheBaseLogitsExactly()
    {
        using var workspace = new TinyTrainingWorkspace(documents: 4);
        using var model = TinyTrainingWorkspace.NewModel(workspace.Config, seed: 11);
        using var ids = torch.tensor(new long[] { 5, 17, 42, 99, 3, 250, 7, 8 }, [2, 4]);
        using var before = Logits(model, ids);

        new LoraPolicy(Config, seed: 1).Prepare(model);
        using var after = Logits(model, ids);

        Assert.Equal(7 * workspace.Config.NumHiddenLayers * 2, model.state_dict().Keys.Count(k => k.Contains("lora_")));
        Assert.Contains("model.layers.0.self_attn.q_proj.base_layer.weight", model.state_dict().Keys);
        Assert.Contains("model.layers.1.mlp.down_proj.lora_B.weight", model.state_dict().Keys);
        Assert.Equal(0.0, (after - before).abs().max().item<float>());
    }

    [Fact]
    public void TrainingChangesOnlyLoraParametersAndTheAdapterRoundTrips()
    {
        using var workspace = new TinyTrainingWorkspace();
        var options = workspace.Options(TrainingStage.Full, workspace.Output("lora"), "new_text");
        var tokenizer = TokenizerLoader.Load(workspace.ModelDir);
        var registry = DatasetRegistry.Open(workspace.DatasetInfo);
        var corpus = CorpusPacker.Pack(registry.LoadMany(options.Datasets), tokenizer, options.CutoffLen);
        using var model = HfModelDirectory.Load(workspace.ModelDir);
        var policy = new LoraPolicy(Config, seed: 5);
        policy.Prepare(model);
        var before = model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());

        new Trainer(model, policy, corpus, options.ToTrainerOptions(tokenizer.EosId, torch.CPU), options.OutputDir,
            TextWriter.Null).Train();

        foreach (var (name, value) in model.state_dict())
        {
            bool changed = !value.allclose(before[name], rtol: 0, atol: 0);
            Assert.True(name.Contains("lora_") || !changed, $"{name} is frozen but changed");
            if (name.Contains("lora_B")) Assert.True(changed, $"{name} did not train");
        }

        using var ids = torch.tensor(new long[] { 5, 17, 42, 99 }, [1, 4]);
        using var trained = Logits(model, ids);
        using var reloaded = HfModelDirectory.Load(workspace.ModelDir);
        var loaded = LoraAdapter.Load(reloaded, options.OutputDir);
        Assert.Equal(Config.Rank, loaded.Rank);
        Assert.Equal(0.0, (Logits(reloaded, ids) - trained).abs().max().item<float>());
        Assert.All(SafeTensors.Load(Path.Combine(options.OutputDir, MoeAdapter.WeightsFileName)).Keys,
                   key => Assert.True(key.StartsWith(MoeAdapter.KeyPrefix) && key.Contains("lora_"), key));
    }

    [Fact]
    public void SameSeedGivesTheSameAdapterAndAnotherSeedDoesNot()
    {
        using var workspace = new TinyTrainingWorkspace(documents: 4);
        Tensor LoraA(long seed)
        {
            using var model = TinyTrainingWorkspace.NewModel(workspace.Config, seed: 11);
            LoraInjector.Inject(model, Config, seed);
            return model.state_dict()["model.layers.1.self_attn.v_proj.lora_A.weight"].clone();
        }
        using var first = LoraA(1);
        using var again = LoraA(1);
        using var other = LoraA(2);
        Assert.True(first.allclose(again, rtol: 0, atol: 0));
        Assert.False(first.allclose(other, rtol: 0, atol: 0));
    }
}
