namespace MoeLpr.Data;

/// <summary>
/// GPT-2's reversible byte ↔ printable-character mapping (<c>bytes_to_unicode</c>): printable Latin-1 bytes map to
/// themselves, the other 68 bytes to U+0100… . Byte-level BPE vocabularies (GPT-2, Qwen2, Llama 3, ours) are written
/// in these characters, so a token never contains a space or a control character.
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>Character for each byte value.</summary>
    public static readonly char[] ByteToChar = Build();

    static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, b))
        .ToDictionary(p => p.c, p => (byte)p.b);

    static char[] Build()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= '¡' and <= '¬' or >= '®' and <= 'ÿ';
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    public static byte[] Decode(string token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
            bytes[i] = CharToByte.TryGetValue(token[i], out byte b) ? b
                : throw new ArgumentException($"'{token}' is not a byte-level token");
        return bytes;
    }
}
