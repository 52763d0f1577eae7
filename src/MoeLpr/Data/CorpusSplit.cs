using System.Security.Cryptography;
using System.Text;

namespace MoeLpr.Data;

/// <summary>
/// Deterministic train/valid/test assignment from a page id alone, so the same page lands in the same split in every
/// language and on every machine: 90 % train, 5 % valid, 5 % test by the SHA-1 of the id.
/// </summary>
internal static class CorpusSplit
{
    public const string Train = "train";
    public const string Valid = "valid";
    public const string Test = "test";
    public static readonly IReadOnlyList<string> All = [Train, Valid, Test];

    public static string Of(string pageId)
    {
        uint bucket = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(HashOf(pageId)) % 100;
        return bucket < 90 ? Train : bucket < 95 ? Valid : Test;
    }

    /// <summary>
    /// A stable pseudo-random order key; files list pages in this order so "the first N" is a fair sample.
    /// </summary>
    public static string OrderKey(string pageId) => Convert.ToHexStringLower(HashOf(pageId));

    static byte[] HashOf(string pageId) => SHA1.HashData(Encoding.UTF8.GetBytes(pageId));
}
