using System.Globalization;
using System.Net;
using System.Text;
using MoeLpr.Evaluation;

namespace MoeLpr.Reporting;

/// <summary>
/// Token-level routing picture of one text: one row per MoE layer, one cell per token, each cell coloured by the
/// token's top-1 expert at that layer (expert 0, the frozen original, in dark slate), a tooltip listing the top-K
/// experts with their weights, a per-layer expert-0 share column, and a legend. Plain arrays in, an HTML fragment
/// out (an <see cref="IHtmlView"/>, so notebooks display it as HTML).
/// </summary>
[TypeFormatterSource(typeof(HtmlViewFormatterSource), PreferredMimeTypes = ["text/html"])]
public sealed class TokenRoutingView : IHtmlView
{
    const string Style = """
        .moelpr-routing { font-family: Inter, 'Segoe UI', 'Helvetica Neue', Arial, sans-serif; font-size: 13px; color: #1f2933; margin: 10px 0; }
        .moelpr-routing .title { font-weight: 600; font-size: 15px; margin-bottom: 6px; }
        .moelpr-routing .legend { display: flex; flex-wrap: wrap; gap: 6px 14px; margin-bottom: 8px; }
        .moelpr-routing .swatch { display: inline-block; width: 14px; height: 14px; border-radius: 3px; vertical-align: -2px; margin-right: 5px; }
        .moelpr-routing .scroll { overflow-x: auto; }
        .moelpr-routing table { border-collapse: separate; border-spacing: 2px; }
        .moelpr-routing th { font-weight: 600; text-align: right; padding: 2px 8px; white-space: nowrap; color: #52606d; }
        .moelpr-routing td { padding: 3px 5px; border-radius: 3px; white-space: pre; font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; cursor: default; }
        .moelpr-routing td.original { font-weight: 700; box-shadow: inset 0 0 0 2px #c8d1dc; }
        .moelpr-routing td sub { font-size: 9px; opacity: 0.8; margin-left: 2px; }
        .moelpr-routing td.share { background: none; color: #52606d; font-family: inherit; text-align: right; }
        """;

    readonly string[] _tokens;
    readonly int[][][] _experts;
    readonly float[][][] _weights;
    readonly int[] _layers;
    readonly int _numExperts;
    readonly string? _title;

    /// <param name="tokens">The text's tokens as strings.</param>
    /// <param name="experts">[layer][token][k] expert ids chosen for the token (top-K).</param>
    /// <param name="weights">[layer][token][k] routing weights matching <paramref name="experts"/>.</param>
    /// <param name="layers">Layer numbers for the row labels (default 0, 1, ...).</param>
    /// <param name="numExperts">Experts in the legend (default: largest id seen + 1).</param>
    /// <param name="title">A heading above the view (plain text), e.g. the language and the sentence.</param>
    public TokenRoutingView(string[] tokens, int[][][] experts, float[][][] weights, int[]? layers = null,
                            int? numExperts = null, string? title = null)
    {
        Shape.Require(weights.Length == experts.Length,
            $"weights has {weights.Length} layers, experts has {experts.Length}");
        for (var layer = 0; layer < experts.Length; layer++)
        {
            Shape.Require(experts[layer].Length == tokens.Length,
                $"layer {layer}: experts has {experts[layer].Length} tokens for {tokens.Length} tokens");
            Shape.Require(weights[layer].Length == tokens.Length,
                $"layer {layer}: weights has {weights[layer].Length} tokens for {tokens.Length} tokens");
            for (var token = 0; token < tokens.Length; token++)
            {
                Shape.Require(experts[layer][token].Length > 0, $"layer {layer}, token {token}: no expert ids");
                Shape.Require(weights[layer][token].Length == experts[layer][token].Length,
                    $"layer {layer}, token {token}: {experts[layer][token].Length} expert ids but " +
                    $"{weights[layer][token].Length} weights");
                Shape.Require(experts[layer][token].All(e => e >= 0),
                    $"layer {layer}, token {token}: negative expert id");
            }
        }
        _layers = layers ?? Enumerable.Range(0, experts.Length).ToArray();
        Shape.Require(_layers.Length == experts.Length, $"{_layers.Length} layer labels for {experts.Length} layers");
        var maxId = experts.SelectMany(l => l).SelectMany(t => t).DefaultIfEmpty(0).Max();
        _numExperts = numExperts ?? maxId + 1;
        Shape.Require(_numExperts > maxId, $"expert id {maxId} is out of range for {_numExperts} experts");
        (_tokens, _experts, _weights, _title) = (tokens, experts, weights, title);
    }

    /// <summary>The view of a routing trace (tokens, layers, experts and weights as traced).</summary>
    public static TokenRoutingView Of(TokenRoutingTrace trace, string? title = null) =>
        new(trace.Tokens, trace.Experts, trace.Weights, trace.Layers, trace.NumExperts, title);

    /// <summary>The expert with the largest weight for a token at a layer (ties: the first listed).</summary>
    public int Top1Expert(int layer, int token)
    {
        var weights = _weights[layer][token];
        var best = 0;
        for (var k = 1; k < weights.Length; k++) if (weights[k] > weights[best]) best = k;
        return _experts[layer][token][best];
    }

    /// <summary>Fraction of the tokens whose top-1 expert at the layer is expert 0.</summary>
    public double Expert0Share(int layer) =>
        _tokens.Length == 0 ? 0
            : Enumerable.Range(0, _tokens.Length).Count(t => Top1Expert(layer, t) == 0) / (double)_tokens.Length;

    public string ToHtml()
    {
        var html = new StringBuilder();
        html.Append("<div class=\"moelpr-routing\">\n<style>\n").Append(Style).Append("\n</style>\n");
        if (_title is not null)
            html.Append("<div class=\"title\">").Append(WebUtility.HtmlEncode(_title)).Append("</div>\n");
        html.Append("<div class=\"legend\">");
        for (var expert = 0; expert < _numExperts; expert++)
            html.Append($"<span><span class=\"swatch\" style=\"background:{ExpertPalette.ColorOf(expert)}\"></span>")
                .Append(WebUtility.HtmlEncode(ExpertPalette.LabelOf(expert))).Append("</span>");
        html.Append("</div>\n<div class=\"scroll\"><table>\n");
        for (var layer = 0; layer < _experts.Length; layer++)
        {
            html.Append($"<tr><th>layer {_layers[layer]}</th>");
            for (var token = 0; token < _tokens.Length; token++) AppendCell(html, layer, token);
            html.Append($"<td class=\"share\" title=\"share of tokens whose top-1 expert is expert 0\">e0 " +
                        $"{(Expert0Share(layer) * 100).ToString("0", CultureInfo.InvariantCulture)}%</td></tr>\n");
        }
        html.Append("</table></div>\n</div>\n");
        return html.ToString();
    }

    void AppendCell(StringBuilder html, int layer, int token)
    {
        var top1 = Top1Expert(layer, token);
        var ranked = _experts[layer][token].Zip(_weights[layer][token]).OrderByDescending(p => p.Second);
        var tooltip = $"'{_tokens[token]}' · token {token} · layer {_layers[layer]}\n" +
                      string.Join("\n", ranked.Select(p => $"{ExpertPalette.LabelOf(p.First)}: " +
                          $"{p.Second.ToString("0.000", CultureInfo.InvariantCulture)}"));
        html.Append(top1 == 0 ? "<td class=\"original\"" : "<td")
            .Append($" style=\"background:{ExpertPalette.ColorOf(top1)};color:{ExpertPalette.TextColorOn(top1)}\"")
            .Append($" data-expert=\"{top1}\" title=\"{WebUtility.HtmlEncode(tooltip)}\">")
            .Append(WebUtility.HtmlEncode(Visible(_tokens[token]))).Append($"<sub>{top1}</sub></td>");
    }

    // Whitespace-only or whitespace-bearing tokens would vanish in a cell; show them with visible symbols.
    static string Visible(string token) =>
        token.Length == 0 ? "∅" : token.Replace(' ', '␣').Replace("\n", "↵").Replace("\t", "⇥");
}
