using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Model;

public class ReferenceForwardTests
{
    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    public void Float64ModelMatchesANaiveLoopImplementation(string type)
    {
        var config = type == "llama" ? TinyModels.Llama : TinyModels.Qwen2;
        using var model = TinyModels.Create(config, seed: 21, ScalarType.Float64);
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
}
