using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Training;

/// <summary>
/// Router statistics of a training logging window, accumulated over its micro-batches (token-weighted): the mean
/// probability of each expert over all layers and tokens, and per layer the old-language tokens' mean p_0 and top-K
/// rate of expert 0. Reads the router logits through <see cref="MoeBlock.Route"/> without gradient and copies only
/// small sums to managed memory.
/// </summary>
public sealed class RoutingWindow(int topK)
{
    double[]? probabilitySum;     // [N] summed over layers and tokens
    long probabilityCount;        // layers × tokens
    double[]? oldExpert0ProbSum;  // [L]
    double[]? oldExpert0Selected; // [L]
    long oldTokens;

    public void Add(IReadOnlyList<Tensor> routerLogits, Tensor oldLanguageMask)
    {
        if (routerLogits.Count == 0) return;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var routings = routerLogits.Select(logits => MoeBlock.Route(logits.detach(), topK)).ToList();
        // [L, T, N]
        var probabilities = torch.stack(routings.Select(r => r.Probabilities.to_type(ScalarType.Float32)).ToArray());
        long layers = probabilities.shape[0], experts = probabilities.shape[2];
        probabilitySum ??= new double[experts];
        oldExpert0ProbSum ??= new double[layers];
        oldExpert0Selected ??= new double[layers];

        var perExpert = probabilities.sum([0, 1]).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        for (int e = 0; e < experts; e++) probabilitySum[e] += perExpert[e];
        probabilityCount += layers * probabilities.shape[1];

        var oldIndex = oldLanguageMask.reshape(-1)
            .to(probabilities.device).to_type(ScalarType.Bool).nonzero().squeeze(1);
        long old = oldIndex.shape[0];
        if (old == 0) return;
        var p0 = probabilities.index_select(1, oldIndex)
            .select(-1, 0).sum(1).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        var selected = torch.stack(routings.Select(r => r.Experts.index_select(0, oldIndex)).ToArray()) // [L, M, K]
                            .eq(0).any(-1).to_type(ScalarType.Float64).sum(1).cpu().data<double>().ToArray();
        for (int l = 0; l < layers; l++)
        {
            oldExpert0ProbSum[l] += p0[l];
            oldExpert0Selected[l] += selected[l];
        }
        oldTokens += old;
    }

    public double[]? ExpertProbability =>
        probabilityCount == 0 ? null : probabilitySum!.Select(s => s / probabilityCount).ToArray();

    public double[]? OldLanguageExpert0Probability =>
        oldTokens == 0 ? null : oldExpert0ProbSum!.Select(s => s / oldTokens).ToArray();

    public double[]? OldLanguageExpert0Selected =>
        oldTokens == 0 ? null : oldExpert0Selected!.Select(s => s / oldTokens).ToArray();
}
