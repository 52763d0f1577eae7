using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Evaluation;

/// <summary>
/// A character-level tokenizer and a LlamaForCausalLM whose logits are a chosen bigram table: one-hot embeddings,
/// attention and MLP outputs zeroed (o_proj, down_proj = 0, so every layer adds nothing to the residual), the final
/// RMSNorm scaled back to one-hot, and lm_head[j, i] = table[i, j]. The logits after token i are exactly table[i].
/// </summary>
internal sealed class BigramModel
{
    public const string Alphabet = " abcdefghiλ.";
    public static int VocabSize => Alphabet.Length;

    public Tokenizer Tokenizer { get; }
    public LlamaForCausalLM Model { get; }
    public double[,] Table { get; }

    public BigramModel(double[,] table)
    {
        Table = table;
        // One pre-token per character, so spaces survive (the default pre-tokenizer drops whitespace).
        Tokenizer = BpeTokenizer.Create(
            new BpeOptions(Alphabet.Select((c, i) => new KeyValuePair<string, int>(c.ToString(), i)))
            {
                PreTokenizer = new RegexPreTokenizer(new Regex("(?s)."), null),
            });
        var config = new ModelConfig
        {
            ModelType = "llama", VocabSize = VocabSize, HiddenSize = VocabSize, IntermediateSize = 4,
            NumHiddenLayers = 1, NumAttentionHeads = 1, RmsNormEps = 1e-12, MaxPositionEmbeddings = 64,
        };
        Model = new LlamaForCausalLM(config);
        using var _ = torch.no_grad();
        var parameters = Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var p in parameters.Values) p.zero_();
        parameters["model.embed_tokens.weight"].copy_(torch.eye(VocabSize));
        parameters["model.norm.weight"].fill_(1.0 / Math.Sqrt(VocabSize));
        var head = new float[VocabSize * VocabSize];
        for (int i = 0; i < VocabSize; i++)
            for (int j = 0; j < VocabSize; j++)
                head[j * VocabSize + i] = (float)table[i, j];
        parameters["lm_head.weight"].copy_(torch.tensor(head, [VocabSize, VocabSize]));
    }

    public static double[,] RandomTable(int seed)
    {
        var random = new Random(seed);
        var table = new double[VocabSize, VocabSize];
        for (int i = 0; i < VocabSize; i++)
            for (int j = 0; j < VocabSize; j++)
                table[i, j] = random.NextDouble() * 4 - 2;
        return table;
    }

    public static int Id(char c) => Alphabet.IndexOf(c);

    /// <summary>log P(continuation | context) straight from the table, in double precision.</summary>
    public double LogLikelihood(string context, string continuation)
    {
        string text = context + continuation;
        double sum = 0;
        for (int t = context.Length; t < text.Length; t++)
        {
            int previous = Id(text[t - 1]), next = Id(text[t]);
            double max = double.MinValue;
            for (int j = 0; j < VocabSize; j++) max = Math.Max(max, Table[previous, j]);
            double logSumExp = max +
                Math.Log(Enumerable.Range(0, VocabSize).Sum(j => Math.Exp(Table[previous, j] - max)));
            sum += Table[previous, next] - logSumExp;
        }
        return sum;
    }
}
