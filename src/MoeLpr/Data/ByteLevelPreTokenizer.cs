using System.Text.RegularExpressions;

namespace MoeLpr.Data;

/// <summary>
/// The split pattern of the kit's own tokenizer. Like GPT-2's, but scripts without spaces get their own runs: Han,
/// Hiragana and Katakana never merge with each other or with Latin/Greek letters, so Chinese and Japanese text breaks
/// at script changes and punctuation instead of forming sentence-long "words". Written with literal ranges (no
/// <c>\p{IsBlock}</c>) so both .NET and HF <c>tokenizers</c> (Oniguruma) read the same pattern from tokenizer.json.
/// Every character matches some branch, so the pieces always concatenate back to the input.
/// </summary>
internal static class ByteLevelPreTokenizer
{
    const string Han = "㐀-䶿一-鿿豈-﫿";
    const string Kana = "ぁ-ゟ゠-ヿ";

    public const string Pattern =
        "'(?:s|t|re|ve|m|ll|d)" +
        "| ?[" + Han + "]+" +
        "| ?[ぁ-ゟ]+" +
        "| ?[゠-ヿ]+" +
        "| ?(?:(?![" + Han + Kana + "])[\\p{L}\\p{M}])+" +
        "| ?\\p{N}{1,3}" +
        "| ?[^\\s\\p{L}\\p{N}]+" +
        "|\\s+(?!\\S)|\\s+";

    /// <summary>GPT-2's pattern, which HF's ByteLevel pre-tokenizer applies when <c>use_regex</c> is true.</summary>
    public const string Gpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+|" +
                                      " ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    public static readonly Regex Regex = new(Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);

    public static IEnumerable<string> Split(string text)
    {
        foreach (Match match in Regex.Matches(text)) yield return match.Value;
    }
}
