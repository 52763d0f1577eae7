using System.Text.RegularExpressions;

namespace MoeLpr.Checkpoints;

/// <summary>
/// Maps MoE-LPR state-dict keys to the classic HF Mixtral keys (transformers ≤ 4.x, as mergekit and llama.cpp read
/// them): <c>mlp.moe_router_embedding</c> → <c>block_sparse_moe.gate</c>; expert e's
/// <c>gate_proj/down_proj/up_proj</c> → <c>block_sparse_moe.experts.{e}.w1/w2/w3</c>, with e = 0 the original MLP
/// (<c>mlp.base_layer</c>) and e = j + 1 for <c>mlp.moe_experts.{j}</c>. Attention, norms, embeddings and lm_head keep
/// their names.
/// </summary>
internal static partial class MixtralKeys
{
    [GeneratedRegex(@"^(model\.layers\.\d+\.)mlp\.(.+)$")]
    private static partial Regex MlpKey();

    [GeneratedRegex(@"^moe_experts\.(\d+)\.(gate|up|down)_proj\.weight$")]
    private static partial Regex NewExpertKey();

    [GeneratedRegex(@"^base_layer\.(gate|up|down)_proj\.weight$")]
    private static partial Regex BaseExpertKey();

    public static string FromMoeLpr(string key)
    {
        var mlp = MlpKey().Match(key);
        if (!mlp.Success) return key;
        string layer = mlp.Groups[1].Value, rest = mlp.Groups[2].Value;
        if (rest == "moe_router_embedding.weight") return $"{layer}block_sparse_moe.gate.weight";
        if (BaseExpertKey().Match(rest) is { Success: true } baseExpert)
            return Expert(layer, 0, baseExpert.Groups[1].Value);
        if (NewExpertKey().Match(rest) is { Success: true } newExpert)
            return Expert(layer, int.Parse(newExpert.Groups[1].Value) + 1, newExpert.Groups[2].Value);
        throw new ArgumentException(
            $"'{key}' is a dense MLP key; Mixtral needs every layer to be an MoE layer", nameof(key));
    }

    static string Expert(string layer, int expert, string projection) =>
        $"{layer}block_sparse_moe.experts.{expert}." +
        $"{projection switch { "gate" => "w1", "down" => "w2", _ => "w3" }}.weight";
}
