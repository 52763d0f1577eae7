using MoeLpr.Data;

namespace MoeLpr.Tests.Data;

public class HelpPageTextTests
{
    [Fact]
    public void KeepsTheArticleAsLinesAndDropsNavigationNotesCodeAndRelatedTopics()
    {
        string html = HelpPageFixtures.Page("Menu service", """
            <p id="p1" class="paragraph" dir="auto">The <span class="literal">Menu</span>   service creates
               menus &amp; sub&#45;menus.</p>
            <div class="note"><div class="noteicon" dir="auto"><img src="note.svg" alt="note"><div>nested icon text</div></div>
            <div class="notetext"><p dir="auto">Menus are not saved.</p></div></div><br>
            <div class="bascode"><pre dir="auto"><code>oMenu.AddItem("A")</code></pre></div>
            <table><tr><td><p>Cell one</p></td><td><p>Cell&nbsp;two</p></td></tr></table>
            """);
        Assert.Equal("Menu service\nThe Menu service creates\nmenus & sub-menus.\nMenus are not " +
                     "saved.\nCell one\nCell two", HelpPageText.Extract(html));
    }

    [Fact]
    public void PageWithoutArticleGivesEmptyText()
    {
        Assert.Equal("", HelpPageText.Extract("<html><body><p>JavaScript is required</p></body></html>"));
    }

    [Fact]
    public void NonLatinTextSurvivesUnchanged()
    {
        string html = HelpPageFixtures.Page("Υπηρεσία Menu",
            "<p>在 LibreOffice 常规 " +
            "帮助页面上，可以找到所有模块的说明。</p><p>Türkçe ğüşöç</p>");
        Assert.Equal("Υπηρεσία Menu\n在 LibreOffice 常规 " +
                     "帮助页面上，可以找到所有模块的说明。\nTürkçe ğüşöç",
                     HelpPageText.Extract(html));
    }
}
