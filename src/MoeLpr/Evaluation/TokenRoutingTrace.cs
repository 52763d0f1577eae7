using MoeLpr.Model;
using TorchSharp;
using static TorchSharp.torch;
using MoeLpr.Data;

namespace MoeLpr.Evaluation;

/// <summary>
/// The routing of one text, token by token: for every MoE layer and token the top-K expert ids (best first) and their
/// mixing weights as the block uses them (renormalised to sum to 1 when K &gt; 1). Plain arrays, shaped for
/// <c>Reporting.TokenRoutingView</c>: <c>Experts[layer][token][k]</c>, <c>Weights[layer][token][k]</c>.
/// </summary>
/// <param name="Layers">Decoder-layer index of each row.</param>
public sealed record TokenRoutingTrace(string[] Tokens, int[] Layers, int NumExperts, int[][][] Experts,
    float[][][] Weights)
{
    /// <summary>Runs the text through the model (no_grad) and reads the routing off its router logits.</summary>
    /// <param name="tokenIds">The text's ids, as the tokenizer produced them.</param>
    /// <param name="tokenStrings">One display string per id (same length).</param>
    public static TokenRoutingTrace Trace(LlamaForCausalLM model, IReadOnlyList<int> tokenIds,
        IReadOnlyList<string> tokenStrings)
    {
        if (tokenIds.Count != tokenStrings.Count)
            throw new ArgumentException($"{tokenIds.Count} token ids but {tokenStrings.Count} token strings");
        if (tokenIds.Count == 0) throw new ArgumentException("cannot trace an empty text");
        var layers = RoutingStatistics.MoeLayers(model);
        if (layers.Count == 0)
            throw new ArgumentException("the model has no MoE layer to trace; upcycle it or load an adapter first");

        using var scope = torch.NewDisposeScope();
        using var _ = EvaluationMode.Enter(model);
        var device = model.parameters().First().device;
        var ids = torch.tensor(tokenIds.Select(i => (long)i).ToArray(), [1, tokenIds.Count]).to(device);
        var output = model.forward(new CausalLMInput(ids));

        var experts = new int[layers.Count][][];
        var weights = new float[layers.Count][][];
        for (int m = 0; m < layers.Count; m++)
        {
            int k = layers[m].TopK;
            var routing = MoeBlock.Route(output.RouterLogits[m], k);
            var expertIds = routing.Experts.cpu().data<long>().ToArray();
            var expertWeights = routing.Weights.to_type(ScalarType.Float32).cpu().data<float>().ToArray();
            experts[m] = Enumerable.Range(0, tokenIds.Count)
                .Select(t => expertIds.Skip(t * k).Take(k).Select(x => (int)x).ToArray()).ToArray();
            weights[m] = Enumerable.Range(0, tokenIds.Count)
                .Select(t => expertWeights.Skip(t * k).Take(k).ToArray()).ToArray();
        }
        return new TokenRoutingTrace(tokenStrings.ToArray(), layers.Select(l => l.Layer).ToArray(),
                                     layers.Max(l => l.NumExperts), experts, weights);
    }
}

/// <summary>The routing trace of a text given as a string: tokenise (no BOS, as training does), name the tokens
/// with <see cref="TokenPieces"/>, trace with <see cref="TokenRoutingTrace"/>.</summary>
public static class TextRouting
{
    public static TokenRoutingTrace Trace(LlamaForCausalLM model, LoadedTokenizer tokenizer, string text)
    {
        var ids = tokenizer.Encode(text);
        return TokenRoutingTrace.Trace(model, ids, TokenPieces.Of(tokenizer, ids));
    }
}
