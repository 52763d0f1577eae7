using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Training;

/// <summary>
/// Router statistics of a training logging window, accumulated over its micro-batches (token-weighted): the mean
/// probability of each expert over all layers and tokens, and per layer the old-language tokens' mean p_0 and top-K
/// rate of expert 0. Reads the router logits through <see cref="MoeBlock.Route"/> without gradient.
/// </summary>
/// <remarks>
/// The sums stay on the routers' device and are copied to managed memory once, when a statistic is first read (at a
/// logging step): reading them at every micro-batch would make the host wait for the device each time. Old-language
/// tokens are selected by multiplying with the mask rather than by indexing, which would read their count back.
/// </remarks>
public sealed class RoutingWindow(int topK) : IDisposable
{
    // float64, on the device: [N] Σ p over layers and tokens, [L] Σ p_0 and [L] Σ [expert 0 in the top-K] over the
    // old-language tokens, [1] the number of old-language tokens.
    Tensor? sums;
    int experts, layers;
    long probabilityCount;        // layers × tokens
    double[]? read;               // sums, once copied

    public void Add(IReadOnlyList<Tensor> routerLogits, Tensor oldLanguageMask)
    {
        if (routerLogits.Count == 0) return;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var routings = routerLogits.Select(logits => MoeBlock.Route(logits.detach(), topK)).ToList();
        // [L, T, N]
        var probabilities = torch.stack(routings.Select(r => r.Probabilities.to_type(ScalarType.Float32)).ToArray());
        (layers, experts) = ((int)probabilities.shape[0], (int)probabilities.shape[2]);
        probabilityCount += layers * probabilities.shape[1];

        var old = oldLanguageMask.reshape(-1).to(probabilities.device).to_type(ScalarType.Float64);   // [T]
        var perExpert = probabilities.sum([0, 1]).to_type(ScalarType.Float64);
        var p0 = (probabilities.select(-1, 0).to_type(ScalarType.Float64) * old).sum(1);
        var selected = (torch.stack(routings.Select(r => r.Experts).ToArray())   // [L, T, K]
            .eq(0).any(-1).to_type(ScalarType.Float64) * old).sum(1);
        var added = torch.cat([perExpert, p0, selected, old.sum().reshape(1)]);
        if (sums is null) sums = added.DetachFromDisposeScope();
        else sums.add_(added);
        read = null;
    }

    public double[]? ExpertProbability =>
        probabilityCount == 0 ? null : Read()[..experts].Select(s => s / probabilityCount).ToArray();

    public double[]? OldLanguageExpert0Probability => PerOldToken(experts);

    public double[]? OldLanguageExpert0Selected => PerOldToken(experts + layers);

    /// <summary>Starts a new window.</summary>
    public void Reset()
    {
        sums?.Dispose();
        (sums, read, probabilityCount) = (null, null, 0);
    }

    public void Dispose() => Reset();

    double[]? PerOldToken(int start)
    {
        if (sums is null) return null;
        var values = Read();
        double oldTokens = values[^1];
        return oldTokens == 0 ? null : values[start..(start + layers)].Select(s => s / oldTokens).ToArray();
    }

    double[] Read()
    {
        if (read is not null) return read;
        using var scope = torch.NewDisposeScope();
        return read = sums!.cpu().data<double>().ToArray();
    }
}
