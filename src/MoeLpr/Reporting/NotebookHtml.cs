namespace MoeLpr.Reporting;

/// <summary>
/// A kit object that shows itself as HTML: in a .NET Interactive kernel it displays as <see cref="ToHtml"/>.
/// </summary>
public interface IHtmlView
{
    string ToHtml();
}

// .NET Interactive's formatter registry recognises this attribute and the formatter source by name and shape, so the
// kit's views render as HTML in every kernel without a reference to Microsoft.DotNet.Interactive (docs/formatting.md).
[AttributeUsage(AttributeTargets.Class)]
internal sealed class TypeFormatterSourceAttribute(Type formatterSourceType) : Attribute
{
    public Type FormatterSourceType { get; } = formatterSourceType;

    public string[] PreferredMimeTypes { get; set; } = [];
}

internal sealed class HtmlViewFormatterSource
{
    public IEnumerable<object> CreateTypeFormatters() => [new HtmlViewFormatter()];
}

internal sealed class HtmlViewFormatter
{
    public string MimeType => "text/html";

    public bool Format(object instance, TextWriter writer)
    {
        if (instance is not IHtmlView view) return false;
        writer.Write(view.ToHtml());
        return true;
    }
}
