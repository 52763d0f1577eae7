namespace MoeLpr.Demo;

/// <summary>
/// The paper's languages as the shipped corpus names them: old = what the base model knows, new = the expansion.
/// </summary>
internal static class DemoLanguages
{
    public static readonly IReadOnlyList<string> Old = ["en", "es", "zh"];
    public static readonly IReadOnlyList<string> New = ["el", "hu", "tr"];
    public static readonly IReadOnlyList<string> All = [.. Old, .. New];

    public static bool IsOld(string language) => Old.Contains(language);

    public static string Dataset(string language, string split) => $"{language}_{split}";

    public static string Name(string language) => language switch
    {
        "en" => "English", "es" => "Spanish", "zh" => "Chinese", "el" => "Greek", "hu" => "Hungarian",
        "tr" => "Turkish", _ => language,
    };
}
