using System.Text;
using MoeLpr.Data;
using Microsoft.ML.Tokenizers;

namespace MoeLpr.Demo;

/// <summary>
/// A readable string per token id for the routing view. Byte-level tokens that hold only part of a UTF-8 character
/// (every Greek letter is two byte tokens for an old-language vocabulary) are shown as their bytes, e.g.
/// <c>‹ce›</c>.
/// </summary>
internal sealed class TokenDisplay
{
    readonly Dictionary<int, string> byId;

    public TokenDisplay(LoadedTokenizer tokenizer)
    {
        if (tokenizer.Tokenizer is not BpeTokenizer bpe)
            throw new InvalidDataException("the routing view needs a byte-level BPE tokenizer.json");
        byId = bpe.Vocabulary.ToDictionary(p => p.Value, p => Show(p.Key));
        foreach (var (text, id) in bpe.SpecialTokens ?? new Dictionary<string, int>()) byId[id] = text;
    }

    public string this[int id] => byId.TryGetValue(id, out var text) ? text : $"#{id}";

    static string Show(string byteLevelToken)
    {
        ReadOnlySpan<byte> bytes = ByteLevelAlphabet.Decode(byteLevelToken);
        var text = new StringBuilder();
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out var rune, out int used) == System.Buffers.OperationStatus.Done)
                text.Append(rune.ToString());
            else for (int i = 0; i < used; i++) text.Append($"‹{bytes[i]:x2}›");
            bytes = bytes[Math.Max(used, 1)..];
        }
        return text.ToString();
    }
}
