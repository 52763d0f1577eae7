namespace MoeLpr.Data;

/// <summary>A language of the LibreOffice help corpus: our short code, its folder under <c>share/libreoffice/help</c>,
/// its Debian package, and whether MoE-LPR treats it as "old" (known to the base model) or "new".</summary>
public sealed record HelpLanguage(string Code, string HelpDirectory, string Package, bool IsOld)
{
    public string Language => IsOld ? DatasetEntry.OldLanguage : DatasetEntry.NewLanguage;

    /// <summary>The paper's six languages (old: en, es, zh; new: el, hu, tr) plus Japanese for the toy example.</summary>
    public static readonly IReadOnlyList<HelpLanguage> All =
    [
        new("en", "en-US", "libreoffice-help-en-us", IsOld: true),
        new("es", "es", "libreoffice-help-es", IsOld: true),
        new("zh", "zh-CN", "libreoffice-help-zh-cn", IsOld: true),
        new("el", "el", "libreoffice-help-el", IsOld: false),
        new("hu", "hu", "libreoffice-help-hu", IsOld: false),
        new("tr", "tr", "libreoffice-help-tr", IsOld: false),
        new("ja", "ja", "libreoffice-help-ja", IsOld: false),
    ];
}
