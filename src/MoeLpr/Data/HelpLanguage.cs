namespace MoeLpr.Data;

/// <summary>A language of the LibreOffice help corpus: our short code, its folder under <c>share/libreoffice/help</c>,
/// its Debian package, whether MoE-LPR treats it as "old" (known to the base model) or "new", and whether it is part
/// of the parallel corpus (the paper's six) or only of the MoE-LPR toy example (Japanese).</summary>
public sealed record HelpLanguage(string Code, string HelpDirectory, string Package, bool IsOld, bool InCorpus = true)
{
    public string Language => IsOld ? DatasetEntry.OldLanguage : DatasetEntry.NewLanguage;

    /// <summary>
    /// The paper's six languages (old: en, es, zh; new: el, hu, tr) plus Japanese for the toy example.
    /// </summary>
    public static readonly IReadOnlyList<HelpLanguage> All =
    [
        new("en", "en-US", "libreoffice-help-en-us", IsOld: true),
        new("es", "es", "libreoffice-help-es", IsOld: true),
        new("zh", "zh-CN", "libreoffice-help-zh-cn", IsOld: true),
        new("el", "el", "libreoffice-help-el", IsOld: false),
        new("hu", "hu", "libreoffice-help-hu", IsOld: false),
        new("tr", "tr", "libreoffice-help-tr", IsOld: false),
        // Over half of the Japanese pages are untranslated copies of English; keeping it out of the alignment keeps
        // 1,900+ parallel pages for the six paper languages. The toy example aligns ja with zh on its own.
        new("ja", "ja", "libreoffice-help-ja", IsOld: false, InCorpus: false),
    ];
}
