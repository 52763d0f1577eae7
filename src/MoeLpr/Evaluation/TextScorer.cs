using MoeLpr.Data;
using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Evaluation;

/// <summary>How well a model predicts one text: the mean next-token negative log-likelihood over its
/// <paramref name="Tokens"/> tokens (nats) and its perplexity exp(mean NLL).</summary>
public sealed record TextScore(string Text, int Tokens, double MeanNll, double Perplexity);

/// <summary>
/// Scores single sentences: every token of the text is predicted from the ones before it, the first one from the
/// end-of-sequence token alone — the context a document has when packed after another (training tokenises without
/// BOS and separates documents with EOS). Runs under no_grad in eval mode and restores the model's mode.
/// </summary>
public static class TextScorer
{
    public static TextScore Score(LlamaForCausalLM model, LoadedTokenizer tokenizer, string text)
    {
        var ids = tokenizer.Encode(text);
        if (ids.Count == 0) throw new ArgumentException("cannot score an empty text");
        using var _ = EvaluationMode.Enter(model);
        using var scope = torch.NewDisposeScope();
        var device = model.parameters().First().device;
        var input = torch.tensor(new[] { (long)tokenizer.EosId }.Concat(ids.Select(i => (long)i)).ToArray(),
            [1, ids.Count + 1]).to(device);
        var loss = model.forward(new CausalLMInput(input, Labels: input)).LmLoss!.to_type(ScalarType.Float64)
            .item<double>();
        return new TextScore(text, ids.Count, loss, Math.Exp(loss));
    }
}
