using System.Text.RegularExpressions;
using MoeLpr.Reporting;

namespace MoeLpr.Tests.Reporting;

public class TokenRoutingViewTests
{
    [Fact]
    public void CellsAreColouredByTheHighestWeightExpert()
    {
        // Token 1's ids are listed low-weight first: the view must still pick expert 3 as top-1.
        var view = new TokenRoutingView(["a", "b"], [[[0, 1], [2, 3]]], [[[0.7f, 0.3f], [0.25f, 0.75f]]]);

        Assert.Equal(0, view.Top1Expert(0, 0));
        Assert.Equal(3, view.Top1Expert(0, 1));
        Assert.Equal(0.5, view.Expert0Share(0));
        var cells = Regex.Matches(view.ToHtml(), "<td(?: class=\"original\")? " +
                                                 "style=\"background:(?<color>#[0-9a-f]{6});[^\"]*\" " +
                                                 "data-expert=\"(?<expert>\\d+)\"");
        Assert.Equal([("0", ExpertPalette.ColorOf(0)), ("3", ExpertPalette.ColorOf(3))],
            cells.Select(m => (m.Groups["expert"].Value, m.Groups["color"].Value)));
    }

    [Fact]
    public void HtmlHasOneRowPerLayerTooltipsLegendAndEscapedTokens()
    {
        var html = SampleReport.SampleRouting().ToHtml();

        Assert.Equal(3, Regex.Matches(html, "<tr><th>layer \\d</th>").Count);
        Assert.Contains("expert 0 (original, frozen)", html);
        Assert.Contains(
            "<span class=\"swatch\" style=\"background:" + ExpertPalette.ColorOf(3) + "\"></span>expert 3", html);
        // Expert-0 cells are marked as the original expert; the tooltip lists both top-K experts with weights.
        Assert.Contains("<td class=\"original\"", html);
        Assert.Contains("title=\"&#39;The&#39; &#183; token 0 &#183; layer 0\nexpert 0 (original, frozen): " +
                        "0.600\nexpert 1: 0.400\"", html);
        Assert.Contains("\u2423cat", html); // leading space made visible

        var escaped = new TokenRoutingView(["<b>"], [[[1]]], [[[1f]]]).ToHtml();
        Assert.Contains("&lt;b&gt;", escaped);
        Assert.DoesNotContain("<b>", escaped);
    }

    [Fact]
    public void ShapeMismatchesAreRejectedWithTheirPosition()
    {
        var tokens = Assert.Throws<ArgumentException>(
            () => new TokenRoutingView(["a", "b"], [[[0], [1]], [[0]]], [[[1f], [1f]], [[1f]]]));
        Assert.Contains("layer 1", tokens.Message);
        var k = Assert.Throws<ArgumentException>(() => new TokenRoutingView(["a"], [[[0, 1]]], [[[1f]]]));
        Assert.Contains("layer 0, token 0", k.Message);
        Assert.Throws<ArgumentException>(() => new TokenRoutingView(["a"], [[[5]]], [[[1f]]], numExperts: 4));
    }
}
