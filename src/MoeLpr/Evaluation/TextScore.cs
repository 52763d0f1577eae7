namespace MoeLpr.Evaluation;

/// <summary>How well a model predicts one text: the mean next-token negative log-likelihood over its
/// <paramref name="Tokens"/> tokens (nats) and its perplexity exp(mean NLL).</summary>
public sealed record TextScore(string Text, int Tokens, double MeanNll, double Perplexity);
