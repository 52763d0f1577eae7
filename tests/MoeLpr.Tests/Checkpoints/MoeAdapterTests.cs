using System.Text.Json.Nodes;
using MoeLpr.Checkpoints;
using MoeLpr.Model;
using MoeLpr.Tests.Model;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Upcycling;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Checkpoints;

public class MoeAdapterTests
{
    /// <summary>
    /// An upcycled model whose routers and new experts differ from a fresh upcycle (as after training).
    /// </summary>
    static LlamaForCausalLM TrainedLikeMoe(ModelConfig config, MoeConfig moe, long seed,
        ScalarType dtype = ScalarType.Float32)
    {
        var model = TinyModels.Create(config, seed, dtype);
        Upcycler.Upcycle(model, moe, seed: seed + 100);
        using (no_grad())
            foreach (var (name, p) in model.named_parameters().Where(p => p.name.Contains("moe_")))
                p.add_(randn(p.shape, dtype: ScalarType.Float32).to_type(p.dtype) * 0.2);
        return model;
    }

    [Fact]
    public void AdapterHoldsExactlyThePrefixedMoeKeys()
    {
        using var dir = new TempDirectory();
        var moe = new MoeConfig { NumExperts = 3, TopK = 2, LayersToTransform = [1] };
        using var model = TrainedLikeMoe(TinyModels.Llama, moe, seed: 2);

        MoeAdapter.Save(model, moe, dir.Path);

        var keys = SafeTensors.ReadHeader(dir.File("adapter_model.safetensors")).Entries.Keys.Order(
            StringComparer.Ordinal);
        Assert.Equal(
        [
            "base_model.model.model.layers.1.mlp.moe_experts.0.down_proj.weight",
            "base_model.model.model.layers.1.mlp.moe_experts.0.gate_proj.weight",
            "base_model.model.model.layers.1.mlp.moe_experts.0.up_proj.weight",
            "base_model.model.model.layers.1.mlp.moe_experts.1.down_proj.weight",
            "base_model.model.model.layers.1.mlp.moe_experts.1.gate_proj.weight",
            "base_model.model.model.layers.1.mlp.moe_experts.1.up_proj.weight",
            "base_model.model.model.layers.1.mlp.moe_router_embedding.weight",
        ], keys);
        var config = JsonNode.Parse(File.ReadAllText(dir.File("adapter_config.json")))!;
        Assert.Equal("MOE", config["peft_type"]!.GetValue<string>());
        Assert.Equal(3, config["num_experts"]!.GetValue<int>());
        Assert.Equal([1], config["layers_to_transform"]!.AsArray().Select(n => n!.GetValue<int>()));
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void ReloadedAdapterRestoresWeightsAndLogits(ScalarType dtype)
    {
        using var root = new TempDirectory();
        string baseDir = Path.Combine(root.Path, "base"), adapterDir = Path.Combine(root.Path, "adapter");
        var moe = new MoeConfig { NumExperts = 4, TopK = 2 };
        using (var dense = TinyCheckpoints.SaveDense(baseDir, TinyModels.Llama, seed: 8, dtype: dtype)) { }
        using var trained = HfModelDirectory.Load(baseDir);
        Upcycler.Upcycle(trained, moe, seed: 9);
        using (no_grad())
            foreach (var (_, p) in trained.named_parameters().Where(p => p.name.Contains("moe_")))
                p.add_(randn(p.shape).to_type(p.dtype) * 0.2);
        MoeAdapter.Save(trained, moe, adapterDir);

        using var restored = HfModelDirectory.Load(baseDir);
        var loadedConfig = MoeAdapter.Load(restored, adapterDir);

        Assert.Equal([0, 1], loadedConfig.LayersToTransform);
        TinyCheckpoints.AssertSameWeights(trained, restored);
        using var ids = TinyModels.RandomIds(TinyModels.Llama, 2, 9, seed: 4);
        using var _ = no_grad();
        var expected = trained.forward(new CausalLMInput(ids));
        var actual = restored.forward(new CausalLMInput(ids));
        Assert.True(expected.Logits.IsExactly(actual.Logits));
        for (int layer = 0; layer < 2; layer++)
            Assert.True(expected.RouterLogits[layer].IsExactly(actual.RouterLogits[layer]));
    }

    [Fact]
    public void MissingAdapterKeyIsNamed()
    {
        using var root = new TempDirectory();
        var moe = new MoeConfig { NumExperts = 3, TopK = 2 };
        using var model = TrainedLikeMoe(TinyModels.Llama, moe, seed: 2);
        MoeAdapter.Save(model, moe, root.Path);
        string file = root.File("adapter_model.safetensors");
        var weights = SafeTensors.Load(file);
        weights.Remove("base_model.model.model.layers.0.mlp.moe_router_embedding.weight");
        SafeTensors.Save(file, weights);

        using var target = TinyModels.Create(TinyModels.Llama, seed: 2);
        var error = Assert.Throws<InvalidDataException>(() => MoeAdapter.Load(target, root.Path));
        Assert.Equal(
            $"{file}: missing keys 'base_model.model.model.layers.0.mlp.moe_router_embedding.weight'", error.Message);
    }

    [Fact]
    public void AdapterForAnotherModelSizeNamesKeyAndShapes()
    {
        using var root = new TempDirectory();
        var moe = new MoeConfig { NumExperts = 3, TopK = 2 };
        using var model = TrainedLikeMoe(TinyModels.Llama with { IntermediateSize = 40 }, moe, seed: 2);
        MoeAdapter.Save(model, moe, root.Path);

        using var target = TinyModels.Create(TinyModels.Llama, seed: 2);
        var error = Assert.Throws<InvalidDataException>(() => MoeAdapter.Load(target, root.Path));
        Assert.Matches(@"adapter_model\.safetensors: tensor " +
                       @"'base_model\.model\.model\.layers\.0\.mlp\.moe_experts\.0\.gate_proj\.weight' has shape " +
                       @"\[40, 32\] but the config implies \[48, 32\]$", error.Message);
    }

    [Fact]
    public void AdapterNamingALayerTheBaseLacksIsRejected()
    {
        using var root = new TempDirectory();
        File.WriteAllText(root.File("adapter_config.json"),
            new MoeConfig { NumExperts = 3, TopK = 2, LayersToTransform = [5] }.ToJson());
        using var target = TinyModels.Create(TinyModels.Llama, seed: 2);

        var error = Assert.Throws<InvalidDataException>(() => MoeAdapter.Load(target, root.Path));
        Assert.Equal($"{root.File("adapter_config.json")}: layers_to_transform has 5, " +
                     $"but the base model has layers 0..1", error.Message);
        Assert.Empty(target.MoeBlocks);
    }

    [Fact]
    public void ANegativeLossWeightInTheConfigIsRejected()
    {
        using var root = new TempDirectory();
        File.WriteAllText(root.File("adapter_config.json"),
            new MoeConfig { NumExperts = 3, TopK = 2, LprLossCoef = -0.1 }.ToJson());
        using var target = TinyModels.Create(TinyModels.Llama, seed: 2);

        var error = Assert.Throws<InvalidDataException>(() => MoeAdapter.Load(target, root.Path));
        Assert.Equal($"{root.File("adapter_config.json")}: lpr_loss_coef must be a finite number of 0 or more " +
                     "(got -0.1)", error.Message);
    }

    [Fact]
    public void ConfigDisagreeingWithTheModelIsRefused()
    {
        using var root = new TempDirectory();
        using var model = TrainedLikeMoe(TinyModels.Llama, new MoeConfig { NumExperts = 3, TopK = 2 }, seed: 2);
        string output = Path.Combine(root.Path, "out");

        var error = Assert.Throws<InvalidOperationException>(
            () => MoeAdapter.Save(model, new MoeConfig { NumExperts = 4, TopK = 2 }, output));
        Assert.Contains("layer 0 has 3 experts", error.Message);
        Assert.False(Directory.Exists(output));
    }
}
