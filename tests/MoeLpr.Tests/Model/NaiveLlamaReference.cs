using MoeLpr.Model;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Model;

/// <summary>
/// A deliberately plain, loop-by-loop LLaMA/Qwen2 forward pass in double arithmetic, written from the HF modeling
/// code's definitions and sharing nothing with the TorchSharp model but the weights. It exists to check that the
/// model wires its parts together as HF does (pre-norm residuals, rotary on q and k only, GQA head mapping,
/// q/k/v bias, causal softmax, SwiGLU, final norm, tied or untied head).
/// </summary>
internal sealed class NaiveLlamaReference
{
    private readonly ModelConfig _config;
    private readonly Dictionary<string, double[]> _weights;

    public NaiveLlamaReference(ModelConfig config, IDictionary<string, Tensor> stateDict)
    {
        _config = config;
        _weights = stateDict.ToDictionary(kv => kv.Key,
            kv => kv.Value.to_type(ScalarType.Float64).data<double>().ToArray());
    }

    /// <summary>Logits [T][V] for one sequence.</summary>
    public double[][] Logits(long[] ids)
    {
        int h = _config.HiddenSize;
        var x = ids.Select(id => _weights["model.embed_tokens.weight"].AsSpan((int)id * h, h).ToArray()).ToArray();
        for (int layer = 0; layer < _config.NumHiddenLayers; layer++)
        {
            var prefix = $"model.layers.{layer}.";
            var attended = Attention(x.Select(row => RmsNorm(row, _weights[prefix + "input_layernorm.weight"]))
                .ToArray(), prefix + "self_attn.");
            x = x.Select((row, t) => Add(row, attended[t])).ToArray();
            x = x.Select(row => Add(row,
                Mlp(RmsNorm(row, _weights[prefix + "post_attention_layernorm.weight"]), prefix + "mlp."))).ToArray();
        }
        var head = _config.TieWordEmbeddings ? _weights["model.embed_tokens.weight"] : _weights["lm_head.weight"];
        return x.Select(row => Linear(RmsNorm(row, _weights["model.norm.weight"]), head, null, _config.VocabSize))
            .ToArray();
    }

    private double[][] Attention(double[][] x, string prefix)
    {
        int heads = _config.NumAttentionHeads, kvHeads = _config.KeyValueHeads, d = _config.HeadDim, T = x.Length;
        double[]? Bias(string name) => _weights.GetValueOrDefault(prefix + name);
        var q = x.Select(row => Linear(row, _weights[prefix + "q_proj.weight"], Bias("q_proj.bias"), heads * d))
            .ToArray();
        var k = x.Select(row => Linear(row, _weights[prefix + "k_proj.weight"], Bias("k_proj.bias"), kvHeads * d))
            .ToArray();
        var v = x.Select(row => Linear(row, _weights[prefix + "v_proj.weight"], Bias("v_proj.bias"), kvHeads * d))
            .ToArray();
        for (int t = 0; t < T; t++)
        {
            for (int head = 0; head < heads; head++) Rotate(q[t], head * d, t);
            for (int head = 0; head < kvHeads; head++) Rotate(k[t], head * d, t);
        }

        var output = new double[T][];
        for (int t = 0; t < T; t++)
        {
            output[t] = new double[heads * d];
            for (int head = 0; head < heads; head++)
            {
                int kvHead = head / (heads / kvHeads);
                var scores = new double[t + 1];          // causal: positions 0..t only
                for (int s = 0; s <= t; s++)
                {
                    for (int i = 0; i < d; i++) scores[s] += q[t][head * d + i] * k[s][kvHead * d + i];
                    scores[s] /= Math.Sqrt(d);
                }
                var weights = Softmax(scores);
                for (int s = 0; s <= t; s++)
                    for (int i = 0; i < d; i++) output[t][head * d + i] += weights[s] * v[s][kvHead * d + i];
            }
        }
        return output.Select(
            row => Linear(row, _weights[prefix + "o_proj.weight"], Bias("o_proj.bias"), _config.HiddenSize)).ToArray();
    }

    /// <summary>HF half-split rotary: pairs (i, i + d/2) rotate by position · θ^(−2i/d).</summary>
    private void Rotate(double[] vector, int offset, int position)
    {
        int d = _config.HeadDim, half = d / 2;
        for (int i = 0; i < half; i++)
        {
            var angle = position * Math.Pow(_config.RopeTheta, -2.0 * i / d);
            double a = vector[offset + i], b = vector[offset + i + half];
            vector[offset + i] = a * Math.Cos(angle) - b * Math.Sin(angle);
            vector[offset + i + half] = b * Math.Cos(angle) + a * Math.Sin(angle);
        }
    }

    private double[] Mlp(double[] x, string prefix)
    {
        int inner = _config.IntermediateSize;
        var gate = Linear(x, _weights[prefix + "gate_proj.weight"], null, inner);
        var up = Linear(x, _weights[prefix + "up_proj.weight"], null, inner);
        var hidden = gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i]).ToArray();
        return Linear(hidden, _weights[prefix + "down_proj.weight"], null, _config.HiddenSize);
    }

    private double[] RmsNorm(double[] x, double[] weight)
    {
        var scale = 1 / Math.Sqrt(x.Average(v => v * v) + _config.RmsNormEps);
        return x.Select((v, i) => weight[i] * v * scale).ToArray();
    }

    /// <summary>y = W x + b with W stored row-major [outputs, inputs], as nn.Linear.</summary>
    private static double[] Linear(double[] x, double[] weight, double[]? bias, int outputs)
    {
        var y = new double[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double sum = bias?[o] ?? 0;
            for (int i = 0; i < x.Length; i++) sum += weight[o * x.Length + i] * x[i];
            y[o] = sum;
        }
        return y;
    }

    private static double[] Softmax(double[] scores)
    {
        var max = scores.Max();
        var exp = scores.Select(s => Math.Exp(s - max)).ToArray();
        return exp.Select(e => e / exp.Sum()).ToArray();
    }

    private static double[] Add(double[] a, double[] b) => a.Select((v, i) => v + b[i]).ToArray();
}
