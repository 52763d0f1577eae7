using System.Security.Cryptography;

namespace MoeLpr.Data;

/// <summary>Content hashes in the lowercase hex form that <c>dataset_info.json</c> (<c>file_sha1</c>) uses.</summary>
internal static class FileHashes
{
    public static string Sha1(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA1.HashData(stream));
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
