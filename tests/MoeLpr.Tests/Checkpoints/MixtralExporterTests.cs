using System.Text.Json.Nodes;
using MoeLpr.Checkpoints;
using MoeLpr.Model;
using MoeLpr.Tests.Model;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Upcycling;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Checkpoints;

public class MixtralExporterTests
{
    static LlamaForCausalLM UpcycledWithTrainedRouters(ModelConfig config, MoeConfig moe, long seed,
                                                       ScalarType dtype = ScalarType.Float32)
    {
        var model = TinyModels.Create(config, seed, dtype);
        Upcycler.Upcycle(model, moe, seed);
        using (no_grad())
            foreach (var (_, p) in model.named_parameters().Where(p => p.name.Contains("moe_")))
                p.add_(randn(p.shape) * 0.2);
        return model;
    }

    [Theory]
    [InlineData(null)]
    [InlineData(20_000L)]
    public void ExportThenReloadGivesTheSameLogits(long? maxShardBytes)
    {
        using var dir = new TempDirectory();
        var moe = new MoeConfig { NumExperts = 3, TopK = 2, AuxLossCoef = 0.01 };
        using var model = UpcycledWithTrainedRouters(TinyModels.Llama, moe, seed: 12);

        MixtralExporter.Export(model, moe, dir.Path, maxShardBytes);
        using var reloaded = MixtralImporter.Load(dir.Path);

        Assert.Equal(2, reloaded.MoeBlocks.Count);
        Assert.All(reloaded.MoeBlocks, b => Assert.Equal((3, 2), (b.NumExperts, b.TopK)));
        TinyCheckpoints.AssertSameWeights(model, reloaded);
        using var ids = TinyModels.RandomIds(TinyModels.Llama, 2, 8, seed: 3);
        using var _ = no_grad();
        var expected = model.forward(new CausalLMInput(ids));
        var actual = reloaded.forward(new CausalLMInput(ids));
        Assert.True(expected.Logits.IsExactly(actual.Logits));
    }

    [Fact]
    public void ExportWritesMixtralKeysAndConfig()
    {
        using var dir = new TempDirectory();
        var moe = new MoeConfig { NumExperts = 3, TopK = 2 };
        using var model = UpcycledWithTrainedRouters(TinyModels.Llama, moe, seed: 13);

        MixtralExporter.Export(model, moe, dir.Path);

        var weights = SafeTensors.Load(dir.File("model.safetensors"));
        var source = model.state_dict();
        Assert.True(weights["model.layers.1.block_sparse_moe.gate.weight"]
            .IsExactly(source["model.layers.1.mlp.moe_router_embedding.weight"]));
        Assert.True(weights["model.layers.0.block_sparse_moe.experts.0.w1.weight"]
            .IsExactly(source["model.layers.0.mlp.base_layer.gate_proj.weight"]));
        Assert.True(weights["model.layers.0.block_sparse_moe.experts.0.w2.weight"]
            .IsExactly(source["model.layers.0.mlp.base_layer.down_proj.weight"]));
        Assert.True(weights["model.layers.0.block_sparse_moe.experts.0.w3.weight"]
            .IsExactly(source["model.layers.0.mlp.base_layer.up_proj.weight"]));
        Assert.True(weights["model.layers.0.block_sparse_moe.experts.2.w1.weight"]
            .IsExactly(source["model.layers.0.mlp.moe_experts.1.gate_proj.weight"]));
        Assert.True(weights["lm_head.weight"].IsExactly(source["lm_head.weight"]));
        Assert.True(weights["model.layers.1.self_attn.q_proj.weight"]
            .IsExactly(source["model.layers.1.self_attn.q_proj.weight"]));
        Assert.DoesNotContain(weights.Keys, k => k.Contains(".mlp."));
        Assert.Equal(source.Count, weights.Count);

        var config = JsonNode.Parse(File.ReadAllText(dir.File("config.json")))!.AsObject();
        Assert.Equal("mixtral", config["model_type"]!.GetValue<string>());
        Assert.Equal("MixtralForCausalLM", config["architectures"]![0]!.GetValue<string>());
        Assert.Equal(3, config["num_local_experts"]!.GetValue<int>());
        Assert.Equal(2, config["num_experts_per_tok"]!.GetValue<int>());
        Assert.True(config.ContainsKey("sliding_window"));
        Assert.Null(config["sliding_window"]);
        Assert.Equal(2, config["num_key_value_heads"]!.GetValue<int>());
    }

    /// <summary>
    /// A Mixtral folder as transformers 5's <c>save_pretrained</c> writes it: bf16 weights in
    /// <c>model-0000k-of-0000n.safetensors</c> shards with <c>model.safetensors.index.json</c> (metadata and
    /// weight_map), and a config.json with <c>dtype</c> and <c>rope_parameters</c> instead of the legacy
    /// <c>torch_dtype</c> and <c>rope_theta</c>, plus the fields transformers always writes.
    /// </summary>
    static void RewriteAsTransformersDoes(string dir)
    {
        string configPath = Path.Combine(dir, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["dtype"] = config["torch_dtype"]!.GetValue<string>();
        config.Remove("torch_dtype");
        config["rope_parameters"] = new JsonObject
        {
            ["rope_theta"] = JsonNode.Parse("1000000.0"), ["rope_type"] = "default",
        };
        config.Remove("rope_theta");
        config["transformers_version"] = "5.17.0";
        config["use_cache"] = true;
        config["initializer_range"] = JsonNode.Parse("0.02");
        config["attention_dropout"] = JsonNode.Parse("0.0");
        config["head_dim"] = null;
        File.WriteAllText(configPath, config.ToJsonString());

        string indexPath = Path.Combine(dir, "model.safetensors.index.json");
        var index = JsonNode.Parse(File.ReadAllText(indexPath))!.AsObject();
        index["metadata"]!["total_parameters"] = 12345;
        File.WriteAllText(indexPath, index.ToJsonString());
    }

    [Fact]
    public void ImporterReadsAShardedBf16FolderAsTransformersWritesIt()
    {
        using var dir = new TempDirectory();
        var moe = new MoeConfig { NumExperts = 3, TopK = 2 };
        using var model = UpcycledWithTrainedRouters(TinyModels.Llama with { RopeTheta = 1_000_000 }, moe, seed: 14,
                                                     ScalarType.BFloat16);
        MixtralExporter.Export(model, moe, dir.Path, maxShardBytes: 8_000);
        RewriteAsTransformersDoes(dir.Path);
        var shards = Directory.GetFiles(dir.Path, "*.safetensors").Select(Path.GetFileName).Order().ToList();
        Assert.True(shards.Count > 2, $"expected several shards, got {shards.Count}");
        Assert.Equal($"model-00001-of-{shards.Count:D5}.safetensors", shards[0]);
        Assert.False(File.Exists(dir.File("model.safetensors")));

        using var imported = MixtralImporter.Load(dir.Path);

        Assert.Equal(ScalarType.BFloat16, imported.DType);
        Assert.Equal(1_000_000.0, imported.Config.RopeTheta);
        TinyCheckpoints.AssertSameWeights(model, imported);
        using var ids = TinyModels.RandomIds(TinyModels.Llama, 2, 8, seed: 5);
        using var _ = no_grad();
        var expected = model.forward(new CausalLMInput(ids)).Logits;
        Assert.True(expected.IsExactly(imported.forward(new CausalLMInput(ids)).Logits));
    }

    [Fact]
    public void ImporterRefusesARopeTypeTheKitDoesNotImplement()
    {
        using var dir = new TempDirectory();
        var moe = new MoeConfig { NumExperts = 3, TopK = 2 };
        using var model = UpcycledWithTrainedRouters(TinyModels.Llama, moe, seed: 15);
        MixtralExporter.Export(model, moe, dir.Path);
        var config = JsonNode.Parse(File.ReadAllText(dir.File("config.json")))!.AsObject();
        config["rope_parameters"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = JsonNode.Parse("4.0") };
        File.WriteAllText(dir.File("config.json"), config.ToJsonString());

        var error = Assert.Throws<InvalidDataException>(() => MixtralImporter.Load(dir.Path));
        Assert.StartsWith(
            $"{dir.File("config.json")}: rope_parameters.rope_type 'yarn' is not supported (only 'default')",
            error.Message);
    }

    [Fact]
    public void Qwen2BaseIsRefusedBecauseMixtralHasNoQkvBias()
    {
        using var root = new TempDirectory();
        var moe = new MoeConfig { NumExperts = 3, TopK = 2 };
        using var model = UpcycledWithTrainedRouters(TinyModels.Qwen2, moe, seed: 1);
        string output = Path.Combine(root.Path, "out");

        var error = Assert.Throws<InvalidOperationException>(() => MixtralExporter.Export(model, moe, output));
        Assert.Contains("Mixtral has no q/k/v bias, so only the adapter layout", error.Message);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void TopOneAndPartialUpcyclingAreRefused()
    {
        using var root = new TempDirectory();
        string output = Path.Combine(root.Path, "out");
        var topOne = new MoeConfig { NumExperts = 3, TopK = 1 };
        using (var model = UpcycledWithTrainedRouters(TinyModels.Llama, topOne, seed: 1))
            Assert.Contains("topk >= 2",
                Assert.Throws<InvalidOperationException>(() => MixtralExporter.Export(model, topOne, output)).Message);
        var partial = new MoeConfig { NumExperts = 3, TopK = 2, LayersToTransform = [0] };
        using (var model = UpcycledWithTrainedRouters(TinyModels.Llama, partial, seed: 1))
            Assert.Contains("the MoE config: layers_to_transform leaves layer 1 dense",
                Assert.Throws<InvalidOperationException>(() => MixtralExporter.Export(model, partial, output)).Message);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void ImporterRejectsNonMixtralConfig()
    {
        using var dir = new TempDirectory();
        using var _ = TinyCheckpoints.SaveDense(dir.Path, TinyModels.Llama);
        var error = Assert.Throws<InvalidDataException>(() => MixtralImporter.Load(dir.Path));
        Assert.Equal($"{dir.File("config.json")}: model_type is 'llama', expected 'mixtral'", error.Message);
    }
}
