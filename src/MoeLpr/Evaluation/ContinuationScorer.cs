using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Evaluation;

/// <summary>
/// Log-likelihood of continuations given contexts (the harness's <c>loglikelihood</c> request): the model reads
/// context + continuation (minus the last token, left-truncated to the model's context length) and the result is the
/// sum over continuation tokens of log softmax(logits) at the true next token. Requests run in batches, longest first,
/// right-padded: with causal attention and no capacity limit, padding cannot change earlier positions.
/// </summary>
internal static class ContinuationScorer
{
    public static double[] Score(LlamaForCausalLM model, IReadOnlyList<(int[] Context, int[] Continuation)> requests,
        int batchSize = 8, int? maxLength = null)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        int limit = maxLength ?? model.Config.MaxPositionEmbeddings;
        model.Config.RequireTokenId(requests.SelectMany(r => r.Context.Concat(r.Continuation)).DefaultIfEmpty(-1).Max(),
            "the contexts and continuations");
        var device = model.parameters().First().device;
        var scores = new double[requests.Count];
        var order = Enumerable.Range(0, requests.Count)
            .OrderByDescending(i => requests[i].Context.Length + requests[i].Continuation.Length).ToList();
        using var _ = EvaluationMode.Enter(model);
        foreach (var chunk in order.Chunk(batchSize))
        {
            using var scope = torch.NewDisposeScope();
            var rows = chunk.Select(i => Row(requests[i], limit)).ToList();
            int width = rows.Max(r => r.Input.Length);
            var inputs = new long[rows.Count * width];
            var targets = new long[rows.Count * width];
            var counted = new float[rows.Count * width];
            for (int r = 0; r < rows.Count; r++)
            {
                var (input, target, first) = rows[r];
                for (int t = 0; t < input.Length; t++)
                {
                    inputs[r * width + t] = input[t];
                    targets[r * width + t] = target[t];
                    counted[r * width + t] = t >= first ? 1 : 0;
                }
            }
            long[] shape = [rows.Count, width];
            var logits = model.forward(new CausalLMInput(torch.tensor(inputs, shape).to(device))).Logits;
            // log softmax at the target only: logit − logsumexp, without a second [B, T, V] tensor.
            var logProbabilities = logits.gather(2, torch.tensor(targets, shape).to(device).unsqueeze(2)).squeeze(2) -
                logits.logsumexp(-1);
            var sums = (logProbabilities.to_type(ScalarType.Float64) * torch.tensor(counted, shape).to(device))
                       .sum(dim: 1).cpu().data<double>().ToArray();
            for (int r = 0; r < chunk.Length; r++) scores[chunk[r]] = sums[r];
        }
        return scores;
    }

    /// <summary>
    /// Model input, the next token at each input position, and the first position that predicts the continuation.
    /// </summary>
    static (long[] Input, long[] Target, int First) Row((int[] Context, int[] Continuation) request, int limit)
    {
        if (request.Continuation.Length == 0) throw new ArgumentException("a continuation needs at least one token");
        if (request.Context.Length == 0)
            throw new ArgumentException(
                "a context needs at least one token (the harness uses end-of-text for an empty one)");
        if (request.Continuation.Length > limit)
            throw new ArgumentException(
                $"a continuation of {request.Continuation.Length} tokens exceeds the model's {limit}-token context");
        var whole = request.Context.Concat(request.Continuation).Select(i => (long)i).ToArray();
        var kept = whole[Math.Max(0, whole.Length - (limit + 1))..];
        var input = kept[..^1];
        return (input, kept[1..], input.Length - request.Continuation.Length);
    }
}
