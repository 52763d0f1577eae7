using MoeLpr.Model;
using MoeLpr.Tests.Model;
using MoeLpr.Upcycling;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Upcycling;

public class UpcyclerParityTests
{
    public static TheoryData<string, int, int> KAtLeastTwo => new()
    {
        { "llama", 4, 2 }, { "llama", 6, 3 }, { "qwen2", 4, 2 }, { "qwen2", 3, 3 },
    };

    static ModelConfig ConfigFor(string type) => type == "llama" ? TinyModels.Llama : TinyModels.Qwen2;

    [Theory]
    [MemberData(nameof(KAtLeastTwo))]
    public void UpcycledModelReproducesDenseLogitsWhenTopKAtLeastTwo(string type, int experts, int topK)
    {
        var config = ConfigFor(type);
        using var model = TinyModels.Create(config, seed: 11);
        using var ids = TinyModels.RandomIds(config, 2, 7, seed: 5);
        using var _ = torch.no_grad();

        using var dense = model.forward(new CausalLMInput(ids)).Logits;
        Upcycler.Upcycle(model, new MoeConfig { NumExperts = experts, TopK = topK }, seed: 3);
        var output = model.forward(new CausalLMInput(ids));

        Assert.Equal(config.NumHiddenLayers, output.RouterLogits.Count);
        var maxDiff = (output.Logits - dense).abs().max().item<float>();
        Assert.True(maxDiff <= 1e-5, $"max |moe - dense| = {maxDiff}");
        // The routers really are mixing experts: some token uses a non-original expert.
        var usesNewExpert = output.RouterLogits.Any(r => r.topk(topK, dim: -1).indexes.gt(0).any().item<bool>());
        Assert.True(usesNewExpert);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    public void TopOneDoesNotReproduceDenseLogits(string type)
    {
        // With K = 1 the reference does not renormalise: the output is p_max · FFN(x), not FFN(x).
        var config = ConfigFor(type);
        using var model = TinyModels.Create(config, seed: 11);
        using var ids = TinyModels.RandomIds(config, 2, 7, seed: 5);
        using var _ = torch.no_grad();

        using var dense = model.forward(new CausalLMInput(ids)).Logits;
        Upcycler.Upcycle(model, new MoeConfig { NumExperts = 4, TopK = 1 }, seed: 3);
        using var moe = model.forward(new CausalLMInput(ids)).Logits;

        var maxDiff = (moe - dense).abs().max().item<float>();
        Assert.True(maxDiff > 1e-2, $"max |moe - dense| = {maxDiff} should be large for top-1");
    }
}
