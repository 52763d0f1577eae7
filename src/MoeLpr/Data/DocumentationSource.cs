namespace MoeLpr.Data;

/// <summary>
/// An openly licensed manual that Debian ships translated into the old languages, used only as extra old-language
/// pretraining text (<see cref="PretrainingCorpusBuilder"/>). <see cref="Languages"/> maps our language code to the
/// folder (relative to the unpacked packages' root) and the file-name suffix of its HTML pages; a page's id is
/// <c>{Name}/{path with the language suffix removed}</c>, the same in every language, so a page lands in the same
/// split (<see cref="CorpusSplit"/>) in every language.
/// </summary>
public sealed record DocumentationSource(string Name, string Licence, IReadOnlyList<string> Packages,
                                         IReadOnlyDictionary<string, (string Directory, string Suffix)> Languages)
{
    /// <summary>The manuals used for the shipped base model's pretraining data (Debian 12 packages).</summary>
    public static readonly IReadOnlyList<DocumentationSource> All =
    [
        new("gimp-help", "GFDL-1.2+ with no Invariant Sections, no Front-Cover and no Back-Cover Texts",
            ["gimp-help-en", "gimp-help-es", "gimp-help-zh-cn", "gimp-help-common"],
            new Dictionary<string, (string, string)>
            {
                ["en"] = ("usr/share/gimp/2.0/help/en", ".html"),
                ["es"] = ("usr/share/gimp/2.0/help/es", ".html"),
                ["zh"] = ("usr/share/gimp/2.0/help/zh_CN", ".html"),
            }),
        new("debian-handbook", "GPL-2.0+ or CC-BY-SA-3.0", ["debian-handbook"],
            new Dictionary<string, (string, string)>
            {
                ["en"] = ("usr/share/doc/debian-handbook/html/en-US", ".html"),
                ["es"] = ("usr/share/doc/debian-handbook/html/es-ES", ".html"),
                ["zh"] = ("usr/share/doc/debian-handbook/html/zh-CN", ".html"),
            }),
        new("debian-reference", "GPL-2+", ["debian-reference-en", "debian-reference-es", "debian-reference-zh-cn"],
            new Dictionary<string, (string, string)>
            {
                ["en"] = ("usr/share/debian-reference", ".en.html"),
                ["es"] = ("usr/share/debian-reference", ".es.html"),
                ["zh"] = ("usr/share/debian-reference", ".zh-cn.html"),
            }),
        new("maint-guide", "GPL-2.0+", ["maint-guide", "maint-guide-es", "maint-guide-zh-cn"],
            new Dictionary<string, (string, string)>
            {
                ["en"] = ("usr/share/doc/maint-guide/html", ".en.html"),
                ["es"] = ("usr/share/doc/maint-guide-es/html", ".es.html"),
                ["zh"] = ("usr/share/doc/maint-guide-zh-cn/html", ".zh-cn.html"),
            }),
    ];
}
