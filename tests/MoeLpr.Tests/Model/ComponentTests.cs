using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Model;

public class ComponentTests
{
    [Fact]
    public void RmsNormMatchesHandComputation()
    {
        using var norm = new RMSNorm(3, eps: 1e-6);
        using (torch.no_grad()) norm.parameters().Single().copy_(torch.tensor(new float[] { 0.5f, 2f, -1f }));
        using var x = torch.tensor(new float[] { 1, -2, 3, 0.5f, 0.25f, -4 }).reshape(2, 3);
        var actual = norm.forward(x).data<float>().ToArray();

        double[] xs = [1, -2, 3, 0.5, 0.25, -4], w = [0.5, 2, -1];
        for (int row = 0; row < 2; row++)
        {
            var meanSquare = Enumerable.Range(0, 3).Average(i => xs[row * 3 + i] * xs[row * 3 + i]);
            for (int i = 0; i < 3; i++)
                Assert.Equal(w[i] * xs[row * 3 + i] / Math.Sqrt(meanSquare + 1e-6), actual[row * 3 + i],
                    tolerance: 1e-6);
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.BFloat16)]
    public void RmsNormIsHfLlamaRmsNormBitForBitOnTheCpu(ScalarType dtype)
    {
        // HF's LlamaRMSNorm, op for op: the output and both gradients must not differ in a single bit, so that a model
        // trained with the kit on a CPU is the model transformers computes.
        using var scope = torch.NewDisposeScope();
        var norm = new RMSNorm(64, eps: 1e-6, dtype);
        using (torch.no_grad()) norm.parameters().Single().copy_(torch.randn(64, generator: new Generator(3)));
        var x = torch.randn([3, 5, 64], generator: new Generator(4)).to_type(dtype).requires_grad_(true);
        var xHf = x.detach().requires_grad_(true);
        var weightHf = norm.parameters().Single().detach().requires_grad_(true);
        var gradOut = torch.randn([3, 5, 64], generator: new Generator(5)).to_type(dtype);

        var y = norm.forward(x);
        var upcast = xHf.to_type(dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32);
        var variance = upcast.pow(2).mean([-1], keepdim: true);
        var yHf = weightHf * (upcast * torch.rsqrt(variance + 1e-6)).to_type(dtype);
        torch.autograd.backward([y, yHf], [gradOut, gradOut]);

        Assert.True(y.IsExactly(yHf), "output");
        Assert.True(x.grad!.IsExactly(xHf.grad!), "input gradient");
        Assert.True(norm.parameters().Single().grad!.IsExactly(weightHf.grad!), "weight gradient");
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void RotaryEmbeddingIsHfRotateHalfBitForBit(ScalarType dtype)
    {
        // HF: x·cos + rotate_half(x)·sin with rotate_half(x) = cat(−x2, x1); the kit rolls x and signs the table.
        using var scope = torch.NewDisposeScope();
        var (cos, signedSin) = new RotaryEmbedding(8, 10000).Compute(5, torch.CPU, dtype);
        var angles = torch.arange(5, dtype: ScalarType.Float32).unsqueeze(1) *
                     torch.pow(10000.0, torch.arange(0, 8, 2, dtype: ScalarType.Float32) / 8).reciprocal();
        var sin = torch.cat([angles, angles], dim: -1).sin().to_type(dtype);
        var x = torch.randn([2, 3, 5, 8], generator: new Generator(6)).to_type(dtype).requires_grad_(true);
        var xHf = x.detach().requires_grad_(true);
        var gradOut = torch.randn([2, 3, 5, 8], generator: new Generator(7)).to_type(dtype);

        var y = RotaryEmbedding.Apply(x, cos, signedSin);
        var yHf = xHf * cos + torch.cat([-xHf.narrow(-1, 4, 4), xHf.narrow(-1, 0, 4)], dim: -1) * sin;
        torch.autograd.backward([y, yHf], [gradOut, gradOut]);

        Assert.True(y.IsExactly(yHf), "output");
        Assert.True(x.grad!.IsExactly(xHf.grad!), "input gradient");
    }

    [Fact]
    public void RotaryEmbeddingRotatesHalvesByPositionTimesInverseFrequency()
    {
        // d = 4, θ = 100: inverse frequencies (1, 100^(−1/2) = 0.1); position 2 → angles (2, 0.2, 2, 0.2).
        var rotary = new RotaryEmbedding(4, 100);
        var (cos, sin) = rotary.Compute(3, torch.CPU, ScalarType.Float64);
        using var x = torch.tensor(new double[] { 1, 2, 3, 4 }).reshape(1, 1, 1, 4).expand(1, 1, 3, 4);
        var y = RotaryEmbedding.Apply(x, cos, sin).data<double>().ToArray()[8..];   // position 2

        Assert.Equal(1 * Math.Cos(2) - 3 * Math.Sin(2), y[0], tolerance: 1e-12);
        Assert.Equal(2 * Math.Cos(0.2) - 4 * Math.Sin(0.2), y[1], tolerance: 1e-12);
        Assert.Equal(3 * Math.Cos(2) + 1 * Math.Sin(2), y[2], tolerance: 1e-12);
        Assert.Equal(4 * Math.Cos(0.2) + 2 * Math.Sin(0.2), y[3], tolerance: 1e-12);
        // Position 0 is the identity.
        Assert.Equal([1.0, 2, 3, 4], RotaryEmbedding.Apply(x, cos, sin).data<double>().ToArray()[..4]);
    }

    [Fact]
    public void LaterTokensDoNotChangeEarlierLogits()
    {
        using var model = TinyModels.Create(TinyModels.Llama, seed: 3);
        using var ids = TinyModels.RandomIds(TinyModels.Llama, 1, 6, seed: 1);
        using var changed = ids.clone();
        changed[0, 4] = torch.tensor((ids[0, 4].item<long>() + 1) % TinyModels.Llama.VocabSize);
        using var _ = torch.no_grad();
        var a = model.forward(new CausalLMInput(ids)).Logits;
        var b = model.forward(new CausalLMInput(changed)).Logits;

        Assert.True(a.narrow(1, 0, 4).IsExactly(b.narrow(1, 0, 4)));
        Assert.True((a.narrow(1, 4, 2) - b.narrow(1, 4, 2)).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void GroupedQueryAttentionEqualsMultiHeadWithRepeatedKeyValueHeads()
    {
        // Query heads 0,1 share key/value head 0 and heads 2,3 share head 1 (HF repeat_kv order).
        using var gqa = TinyModels.Create(TinyModels.Llama, seed: 5);
        using var mha = new LlamaForCausalLM(TinyModels.Llama with { NumKeyValueHeads = 4 });
        var source = gqa.state_dict();
        using (torch.no_grad())
            foreach (var (name, target) in mha.state_dict())
            {
                var weight = source[name];
                if (name.EndsWith("k_proj.weight") || name.EndsWith("v_proj.weight"))
                    weight = weight.view(2, 8, 32).repeat_interleave(2, dim: 0).reshape(32, 32);
                target.copy_(weight);
            }
        using var ids = TinyModels.RandomIds(TinyModels.Llama, 2, 5, seed: 2);
        using var _ = torch.no_grad();
        var diff = (gqa.forward(new CausalLMInput(ids)).Logits - mha.forward(new CausalLMInput(ids)).Logits)
            .abs().max();
        Assert.True(diff.item<float>() < 1e-5, $"max diff {diff.item<float>()}");
    }

    [Fact]
    public void LmLossIsTheShiftedCrossEntropyOverNonIgnoredLabels()
    {
        using var model = TinyModels.Create(TinyModels.Qwen2, seed: 8);
        using var ids = TinyModels.RandomIds(TinyModels.Qwen2, 2, 5, seed: 4);
        using var labels = ids.clone();
        labels[0, 2] = torch.tensor(LlamaForCausalLM.IgnoreIndex);
        labels[1, 4] = torch.tensor(LlamaForCausalLM.IgnoreIndex);
        labels[1, 0] = torch.tensor(LlamaForCausalLM.IgnoreIndex);   // position 0 is never a target anyway
        using var _ = torch.no_grad();
        var output = model.forward(new CausalLMInput(ids, labels));

        var logits = output.Logits.to_type(ScalarType.Float64);
        long vocab = logits.shape[2];
        double sum = 0; int count = 0;
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < 4; t++)
            {
                var target = labels[b, t + 1].item<long>();
                if (target == LlamaForCausalLM.IgnoreIndex) continue;
                var row = logits[b, t].data<double>().ToArray();
                var max = row.Max();
                var logSumExp = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
                sum += logSumExp - row[target];
                count++;
            }
        Assert.Equal(6, count);
        Assert.Equal(sum / count, output.LmLoss!.item<float>(), tolerance: 1e-5);
    }

    [Fact]
    public void TiedModelProjectsWithTheEmbeddingMatrix()
    {
        using var model = TinyModels.Create(TinyModels.Qwen2, seed: 6);
        using var ids = TinyModels.RandomIds(TinyModels.Qwen2, 1, 4, seed: 3);
        using var _ = torch.no_grad();
        var hidden = model.Model.forward(ids).HiddenStates;
        var expected = hidden.matmul(model.Model.EmbeddingWeight.T);
        var diff = (model.forward(new CausalLMInput(ids)).Logits - expected).abs().max().item<float>();
        Assert.True(diff < 1e-6, $"max diff {diff}");
    }

    [Theory]
    [InlineData(ScalarType.BFloat16, 0.05)]   // 8-bit mantissa: ~0.4 % per rounding, a few dozen roundings deep
    [InlineData(ScalarType.Float16, 0.01)]    // 11-bit mantissa
    public void HalfPrecisionWeightsGiveCloseFloat32Logits(ScalarType dtype, double relativeTolerance)
    {
        using var full = TinyModels.Create(TinyModels.Llama, seed: 7);
        using var half = new LlamaForCausalLM(TinyModels.Llama, dtype);
        using (torch.no_grad())
        {
            var source = full.state_dict();
            foreach (var (name, target) in half.state_dict()) target.copy_(source[name]);
        }
        using var ids = TinyModels.RandomIds(TinyModels.Llama, 1, 6, seed: 5);
        using var _ = torch.no_grad();
        var reference = full.forward(new CausalLMInput(ids)).Logits;
        var lowered = half.forward(new CausalLMInput(ids)).Logits;

        Assert.Equal(ScalarType.Float32, lowered.dtype);
        var scale = reference.abs().max().item<float>();
        var diff = (reference - lowered).abs().max().item<float>();
        Assert.True(diff < relativeTolerance * scale, $"max diff {diff} vs scale {scale}");
        Assert.True(diff > 0, "the half-precision path should round somewhere");
    }

    /// <summary>
    /// The kit attends over the whole sequence: a model trained with a sliding window (Mistral's sliding_window,
    /// Qwen2's with use_sliding_window) runs only sequences the window covers, where the two attentions agree.
    /// </summary>
    [Fact]
    public void ASequenceLongerThanTheModelsSlidingWindow_IsRefused()
    {
        using var mistral = new LlamaForCausalLM(TinyModels.Llama with { ModelType = "mistral", SlidingWindow = 8 });
        using var _ = torch.no_grad();
        mistral.forward(new CausalLMInput(TinyModels.RandomIds(TinyModels.Llama, 1, 8, seed: 1))).Logits.Dispose();
        var error = Assert.Throws<ArgumentException>(() =>
            mistral.forward(new CausalLMInput(TinyModels.RandomIds(TinyModels.Llama, 1, 9, seed: 1))));
        Assert.StartsWith("a sequence of 9 tokens is longer than the model's sliding_window 8", error.Message);

        using var qwen2 = new LlamaForCausalLM(TinyModels.Qwen2 with { SlidingWindow = 8, UseSlidingWindow = false });
        qwen2.forward(new CausalLMInput(TinyModels.RandomIds(TinyModels.Qwen2, 1, 9, seed: 1))).Logits.Dispose();
        Assert.Equal(8, (TinyModels.Qwen2 with { SlidingWindow = 8, UseSlidingWindow = true }).AttentionWindow);
    }

    /// <summary>Shapes libtorch cannot build (a size of 0, an odd head) are one error naming the field.</summary>
    [Fact]
    public void AConfigWithAShapeLibtorchCannotBuild_IsRefused()
    {
        string ErrorOf(ModelConfig config) =>
            Assert.Throws<InvalidDataException>(() => config.Validate("options")).Message;
        Assert.Equal("options: hidden_size must be at least 1 (got 0)",
            ErrorOf(TinyModels.Llama with { HiddenSize = 0 }));
        Assert.Equal("options: num_attention_heads must be at least 1 (got 0)",
            ErrorOf(TinyModels.Llama with { NumAttentionHeads = 0 }));
        Assert.StartsWith("options: the head size (head_dim, else hidden_size / num_attention_heads) must be a " +
                          "positive even number", ErrorOf(TinyModels.Llama with
                          {
                              HiddenSize = 18, NumAttentionHeads = 2, NumKeyValueHeads = 2,
                          }));
    }
}
