using MoeLpr.Model;
using MoeLpr.Tests.Model;
using MoeLpr.Upcycling;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Upcycling;

public class UpcyclerStructureTests
{
    [Fact]
    public void DenseModelHasHuggingFaceKeys()
    {
        using var llama = new LlamaForCausalLM(TinyModels.Llama);
        var keys = llama.state_dict().Keys.ToHashSet();
        Assert.Contains("model.embed_tokens.weight", keys);
        Assert.Contains("model.layers.1.self_attn.q_proj.weight", keys);
        Assert.DoesNotContain("model.layers.1.self_attn.q_proj.bias", keys);
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", keys);
        Assert.Contains("model.layers.0.input_layernorm.weight", keys);
        Assert.Contains("model.layers.0.post_attention_layernorm.weight", keys);
        Assert.Contains("model.norm.weight", keys);
        Assert.Contains("lm_head.weight", keys);
        Assert.Empty(llama.MoeBlocks);

        using var qwen = new LlamaForCausalLM(TinyModels.Qwen2);
        var qwenKeys = qwen.state_dict().Keys.ToHashSet();
        Assert.Contains("model.layers.0.self_attn.k_proj.bias", qwenKeys);
        Assert.DoesNotContain("model.layers.0.self_attn.o_proj.bias", qwenKeys);
        Assert.DoesNotContain("lm_head.weight", qwenKeys);   // tied: the embedding is the output projection
    }

    [Fact]
    public void UpcyclingRenamesTheMlpAndAddsExpertsAndRouters()
    {
        using var model = TinyModels.Create(TinyModels.Llama, seed: 1);
        var denseGate = model.state_dict()["model.layers.1.mlp.gate_proj.weight"].clone();
        Upcycler.Upcycle(model, new MoeConfig { NumExperts = 4, TopK = 2 }, seed: 7);

        var state = model.state_dict();
        Assert.DoesNotContain("model.layers.1.mlp.gate_proj.weight", state.Keys);
        Assert.True(state["model.layers.1.mlp.base_layer.gate_proj.weight"].IsExactly(denseGate));
        for (int j = 0; j < 3; j++)
            foreach (var proj in new[] { "gate_proj", "up_proj", "down_proj" })
                Assert.True(state[$"model.layers.1.mlp.moe_experts.{j}.{proj}.weight"]
                    .IsExactly(state[$"model.layers.1.mlp.base_layer.{proj}.weight"]));
        Assert.DoesNotContain("model.layers.1.mlp.moe_experts.3.gate_proj.weight", state.Keys);
        Assert.Equal([4L, 32L], state["model.layers.0.mlp.moe_router_embedding.weight"].shape);
        Assert.Equal(2, model.MoeBlocks.Count);

        // Copies share no storage with the original.
        using (torch.no_grad()) state["model.layers.1.mlp.moe_experts.0.gate_proj.weight"].add_(1);
        Assert.True(state["model.layers.1.mlp.base_layer.gate_proj.weight"].IsExactly(denseGate));
    }

    [Fact]
    public void RouterIsXavierNormalAndSeeded()
    {
        using var a = new LlamaForCausalLM(TinyModels.Llama with { HiddenSize = 64, NumHiddenLayers = 1 });
        using var b = new LlamaForCausalLM(TinyModels.Llama with { HiddenSize = 64, NumHiddenLayers = 1 });
        using var c = new LlamaForCausalLM(TinyModels.Llama with { HiddenSize = 64, NumHiddenLayers = 1 });
        var config = new MoeConfig { NumExperts = 8, TopK = 2 };
        Upcycler.Upcycle(a, config, seed: 42);
        Upcycler.Upcycle(b, config, seed: 42);
        Upcycler.Upcycle(c, config, seed: 43);
        var wa = a.MoeBlocks[0].RouterWeight;
        Assert.True(wa.IsExactly(b.MoeBlocks[0].RouterWeight));
        Assert.False(wa.IsExactly(c.MoeBlocks[0].RouterWeight));
        // 512 draws: the sample std is within ~10 % of sqrt(2 / (64 + 8)) = 0.1667.
        var std = wa.std().item<float>();
        Assert.InRange(std, 0.1667 * 0.9, 0.1667 * 1.1);
        Assert.InRange(wa.mean().item<float>(), -0.03, 0.03);
    }

    [Fact]
    public void OnlyListedLayersAreUpcycled()
    {
        using var model = new LlamaForCausalLM(TinyModels.Llama);
        Upcycler.Upcycle(model, new MoeConfig { NumExperts = 3, TopK = 2, LayersToTransform = [1] }, seed: 0);
        Assert.NotNull(model.Model.Layers[0].DenseMlp);
        Assert.NotNull(model.Model.Layers[1].Moe);
        Assert.Single(model.MoeBlocks);
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", model.state_dict().Keys);
        using var ids = TinyModels.RandomIds(TinyModels.Llama, 1, 5, seed: 1);
        using var _ = torch.no_grad();
        Assert.Single(model.forward(new CausalLMInput(ids)).RouterLogits);
    }

    [Fact]
    public void BadLayerIndexAndDoubleUpcyclingAreRejected()
    {
        using var model = new LlamaForCausalLM(TinyModels.Llama);
        var bad = Assert.Throws<InvalidDataException>(() =>
            Upcycler.Upcycle(model, new MoeConfig { LayersToTransform = [2] }, seed: 0));
        Assert.Contains("layers_to_transform", bad.Message);
        Upcycler.Upcycle(model, new MoeConfig(), seed: 0);
        Assert.Throws<InvalidOperationException>(() => Upcycler.Upcycle(model, new MoeConfig(), seed: 0));
    }

    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void HalfPrecisionModelsUpcycleIntoTheirDtypeAndGiveFloat32Outputs(ScalarType dtype)
    {
        using var model = TinyModels.Create(TinyModels.Qwen2, seed: 2, dtype);
        Upcycler.Upcycle(model, new MoeConfig { NumExperts = 4, TopK = 2 }, seed: 1);
        Assert.All(model.parameters(), p => Assert.Equal(dtype, p.dtype));
        using var ids = TinyModels.RandomIds(TinyModels.Qwen2, 1, 6, seed: 3);
        using var _ = torch.no_grad();
        var output = model.forward(new CausalLMInput(ids, Labels: ids));
        Assert.Equal(ScalarType.Float32, output.Logits.dtype);
        Assert.Equal(ScalarType.Float32, output.RouterLogits[0].dtype);
        Assert.True(float.IsFinite(output.LmLoss!.item<float>()));
    }

    [Fact]
    public void RouterLogitsComeInLayerOrder()
    {
        using var model = TinyModels.Create(TinyModels.Llama, seed: 4);
        Upcycler.Upcycle(model, new MoeConfig { NumExperts = 3, TopK = 2 }, seed: 4);
        using var ids = TinyModels.RandomIds(TinyModels.Llama, 1, 5, seed: 1);
        using var _ = torch.no_grad();
        model.MoeBlocks[1].RouterWeight.zero_();   // layer 1's router now outputs exact zeros

        var routerLogits = model.forward(new CausalLMInput(ids)).RouterLogits;
        Assert.Equal([5L, 3L], routerLogits[0].shape);
        Assert.True(routerLogits[0].abs().sum().item<float>() > 0);
        Assert.Equal(0, routerLogits[1].abs().sum().item<float>());
    }

    [Fact]
    public void UpcycledModelConvertsDtypeAsAWhole()
    {
        using var model = TinyModels.Create(TinyModels.Qwen2, seed: 4);
        Upcycler.Upcycle(model, new MoeConfig { NumExperts = 3, TopK = 2 }, seed: 4);
        model.to(ScalarType.BFloat16);
        Assert.All(model.state_dict().Values, t => Assert.Equal(ScalarType.BFloat16, t.dtype));
        Assert.Equal(ScalarType.BFloat16, model.MoeBlocks[0].RouterWeight.dtype);
        using var ids = TinyModels.RandomIds(TinyModels.Qwen2, 1, 4, seed: 1);
        using var _ = torch.no_grad();
        Assert.Equal(ScalarType.Float32, model.forward(new CausalLMInput(ids)).Logits.dtype);
    }
}
