namespace MoeLpr.Notebooks;

/// <summary>A trusted HTML fragment to show as a cell output (what <c>HTML("...")</c> returns in a notebook).</summary>
public sealed record HtmlContent(string Html)
{
    public string ToHtml() => Html;

    public override string ToString() => Html;
}
