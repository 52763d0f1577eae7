using MoeLpr.Data;

namespace MoeLpr.Evaluation;

/// <summary>
/// Display strings for the tokens of a text, one per id, that concatenate back to the decoded text. Byte-level
/// tokenizers split many non-Latin characters (Greek, Chinese, ...) over several tokens; each character is shown
/// on the token that completes it, and a token holding only part of a character shows as an empty string.
/// </summary>
public static class TokenPieces
{
    const char Incomplete = '\uFFFD';

    public static string[] Of(LoadedTokenizer tokenizer, IReadOnlyList<int> ids)
    {
        var pieces = new string[ids.Count];
        var shown = "";
        for (int i = 0; i < ids.Count; i++)
        {
            // Decode the prefix; trailing replacement characters are bytes still waiting for the rest of their
            // character.
            var prefix = tokenizer.Decode(ids.Take(i + 1));
            var complete = i == ids.Count - 1 ? prefix : prefix.TrimEnd(Incomplete);
            if (complete.StartsWith(shown, StringComparison.Ordinal))
            {
                pieces[i] = complete[shown.Length..];
                shown = complete;
            }
            else
            {
                // a decoder that rewrites earlier text: fall back to the token alone
                pieces[i] = tokenizer.Decode([ids[i]]);
                shown = prefix;
            }
        }
        return pieces;
    }
}
