using MoeLpr.Data;
using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Evaluation;

/// <summary>
/// Greedy continuation of a prompt: append the most likely next token until <c>maxNewTokens</c> or end-of-sequence.
/// Each step reruns the whole sequence (no KV cache): simple and exact, and fast enough for the kit's small models.
/// The prompt is preceded by EOS, the start-of-document context training sees.
/// </summary>
public static class GreedyDecoder
{
    /// <returns>The generated text only (the prompt not repeated).</returns>
    public static string Generate(LlamaForCausalLM model, LoadedTokenizer tokenizer, string prompt, int maxNewTokens)
    {
        if (maxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(maxNewTokens), "must be at least 0");
        return tokenizer.Decode(
            NextTokens(model, [tokenizer.EosId, .. tokenizer.Encode(prompt)], maxNewTokens, tokenizer.EosId));
    }

    /// <summary>
    /// The greedily chosen ids after <paramref name="context"/>, stopping after <paramref name="stopId"/> (not
    /// included).
    /// </summary>
    public static IReadOnlyList<int> NextTokens(LlamaForCausalLM model, IReadOnlyList<int> context, int maxNewTokens,
        int? stopId = null)
    {
        if (context.Count == 0) throw new ArgumentException("greedy decoding needs at least one context token");
        using var _ = EvaluationMode.Enter(model);
        var device = model.parameters().First().device;
        var sequence = context.Select(i => (long)i).ToList();
        var generated = new List<int>();
        for (int step = 0; step < maxNewTokens; step++)
        {
            using var scope = torch.NewDisposeScope();
            var input = torch.tensor(sequence.ToArray(), [1, sequence.Count]).to(device);
            var logits = model.forward(new CausalLMInput(input)).Logits;
            int next = (int)logits[0, -1].argmax().item<long>();
            if (next == stopId) break;
            generated.Add(next);
            sequence.Add(next);
        }
        return generated;
    }
}
