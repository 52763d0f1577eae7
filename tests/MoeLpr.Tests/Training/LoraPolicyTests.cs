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
        Assert.All(SafeTensors.Load(Path.Combine(options.OutputDir, PeftAdapterFiles.WeightsFileName)).Keys,
                   key => Assert.True(key.StartsWith(PeftAdapterFiles.KeyPrefix) && key.Contains("lora_"), key));
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

    [Fact]
    public void DropoutActsOnTheLoraBranchInTrainingOnly()
    {
        using var generator = new torch.Generator(3);
        using var baseLayer = torch.nn.Linear(16, 8, hasBias: false);
        using var lora = new LoraLinear(baseLayer, rank: 4, alpha: 8, generator, dropout: 0.5);
        using var x = torch.randn([32, 16], generator: generator);
        using var expectedBase = baseLayer.forward(x);
        using (torch.no_grad())
        {
            using var b = torch.randn([8, 4], generator: generator);
            lora.state_dict()["lora_B.weight"].copy_(b);
        }
        var weights = lora.state_dict();
        Assert.Equal(["base_layer.weight", "lora_A.weight", "lora_B.weight"], weights.Keys.Order());
        using var update = x.matmul(weights["lora_A.weight"].t()).matmul(weights["lora_B.weight"].t());
        using var noDropout = expectedBase + update * 2.0;

        lora.eval();
        using var evaluated = lora.forward(x);
        Assert.True(evaluated.allclose(noDropout, rtol: 1e-5, atol: 1e-6), "eval mode applies no dropout");

        lora.train();
        using var first = lora.forward(x);
        using var second = lora.forward(x);
        Assert.False(first.allclose(evaluated, rtol: 1e-3, atol: 1e-3), "training mode drops LoRA inputs");
        Assert.False(first.allclose(second, rtol: 1e-3, atol: 1e-3), "a new dropout mask per call");

        using (torch.no_grad()) weights["lora_B.weight"].zero_();
        using var baseOnly = lora.forward(x);
        Assert.True(baseOnly.allclose(expectedBase, rtol: 0, atol: 0), "the base layer's path is never dropped");
    }

    [Fact]
    public void DropoutOutsideZeroToOneIsRefusedNamingTheFile()
    {
        var error = Assert.Throws<InvalidDataException>(
            () => (Config with { Dropout = 1.0 }).Validate("adapter_config.json"));
        Assert.Equal("adapter_config.json: lora_dropout must be in [0, 1) (got 1)", error.Message);
    }
}
