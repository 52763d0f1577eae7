namespace MoeLpr.Tests.Data;

/// <summary>Help pages shaped like the ones in Debian's libreoffice-help-* packages (header navigation, the
/// DisplayArea article with note icons, code samples and related topics, the debug footer).</summary>
internal static class HelpPageFixtures
{
    public static string Page(string title, string body) => $$"""
        <!DOCTYPE html>
        <html lang="en-US" dir="ltr">
        <head><title>{{title}}</title><script type="text/javascript" src="help.js"></script></head>
        <body>
        <header id="TopLeftHeader"><a class="logo" href="x.html"><p dir="auto">LibreOffice 7.4 Help</p></a></header>
        <aside class="leftside"><div id="Index"><div class="index-label" dir="auto">Index</div></div></aside>
        <div id="DisplayArea" itemprop="softwareHelp" itemscope="true">
          <meta itemprop="keywords" content="ignored keywords">
          <h1 id="h" dir="auto"><a name="x"></a>{{title}}</h1>
          {{body}}
          <div class="relatedtopics"><p class="related"><span class="emph">Related Topics</span></p>
            <div class="relatedbody"><div class="embedded"><p><a href="y.html">Other page</a></p></div></div></div>
        </div>
        <div id="SearchFrame"></div>
        <footer><div id="DEBUG" class="debug"><p dir="auto">This page is: /text/x.xhp</p></div></footer>
        </body></html>
        """;

    public static void WritePage(string helpRoot, string languageDir, string pageId, string title, string body)
    {
        string path = Path.Combine(helpRoot, languageDir, pageId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, Page(title, body));
    }
}
