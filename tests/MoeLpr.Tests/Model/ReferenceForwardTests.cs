using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Model;

public class ReferenceForwardTests
{
    [Theory]
    [InlineData("llama", AttentionImplementation.Eager)]
    [InlineData("qwen2", AttentionImplementation.Eager)]
    [InlineData("llama", AttentionImplementation.Sdpa)]
    [InlineData("qwen2", AttentionImplementation.Sdpa)]
    public void Float64ModelMatchesANaiveLoopImplementation(string type, AttentionImplementation attention)
    {
        var config = type == "llama" ? TinyModels.Llama : TinyModels.Qwen2;
        using var model = TinyModels.Create(config, seed: 21, ScalarType.Float64);
        LlamaAttention.SetImplementation(model, attention);
        using var ids = TinyModels.RandomIds(config, 1, 6, seed: 22);
        using var _ = torch.no_grad();
        var logits = model.forward(new CausalLMInput(ids)).Logits;
        Assert.Equal(ScalarType.Float64, logits.dtype);

        var expected = new NaiveLlamaReference(config, model.state_dict()).Logits(ids[0].data<long>().ToArray());
        var actual = logits[0].data<double>().ToArray();
        int vocab = config.VocabSize;
        for (int t = 0; t < expected.Length; t++)
            for (int v = 0; v < vocab; v++)
                Assert.True(Math.Abs(expected[t][v] - actual[t * vocab + v]) < 1e-9,
                    $"position {t}, token {v}: naive {expected[t][v]} vs model {actual[t * vocab + v]}");
    }

    /// <summary>
    /// scaled_dot_product_attention and the eager attention give the same gradient for every parameter of a float64
    /// model (GQA, bias), through a loss over all positions.
    /// </summary>
    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    public void SdpaGradientsMatchEagerInFloat64(string type)
    {
        var config = type == "llama" ? TinyModels.Llama : TinyModels.Qwen2;
        using var ids = TinyModels.RandomIds(config, 2, 7, seed: 23);
        var gradients = new[] { AttentionImplementation.Eager, AttentionImplementation.Sdpa }.Select(attention =>
        {
            using var model = TinyModels.Create(config, seed: 24, ScalarType.Float64);
            LlamaAttention.SetImplementation(model, attention);
            model.forward(new CausalLMInput(ids, Labels: ids)).LmLoss!.backward();
            return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());
        }).ToArray();
        foreach (var (name, eager) in gradients[0].Select(p => (p.Key, p.Value)))
        {
            double error = (gradients[1][name] - eager).abs().max().item<double>();
            double scale = eager.abs().max().item<double>();
            Assert.True(error <= 1e-10 * Math.Max(scale, 1e-3), $"{name}: sdpa differs from eager by {error}");
        }
    }

    [Fact]
    public void AutoTakesSdpaOnCudaOnly()
    {
        using var model = TinyModels.Create(TinyModels.Llama, seed: 25);
        Assert.Equal("eager", LlamaAttention.ImplementationOf(model, DeviceType.CPU));
        Assert.Equal("sdpa", LlamaAttention.ImplementationOf(model, DeviceType.CUDA));
        LlamaAttention.SetImplementation(model, AttentionImplementation.Sdpa);
        Assert.Equal("sdpa", LlamaAttention.ImplementationOf(model, DeviceType.CPU));
        LlamaAttention.SetImplementation(model, AttentionImplementation.Eager);
        Assert.Equal("eager", LlamaAttention.ImplementationOf(model, DeviceType.CUDA));
    }
}
