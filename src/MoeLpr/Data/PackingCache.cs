using System.Text;

namespace MoeLpr.Data;

/// <summary>
/// The on-disk form of a <see cref="PackedCorpus"/>: <c>packed-{key}.bin</c>, little-endian, written atomically
/// (temp file, then rename) so an interrupted run never leaves a half file that a later run would trust.
/// </summary>
internal static class PackingCache
{
    const string Magic = "MOELPRPK";
    const int Version = 1;

    public static string PathFor(string cacheDir, string key) => Path.Combine(cacheDir, $"packed-{key}.bin");

    public static void Write(string path, PackedCorpus corpus)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temp = $"{path}.{Environment.ProcessId}.tmp";
        using (var writer = new BinaryWriter(File.Create(temp), Encoding.UTF8))
        {
            writer.Write(Encoding.ASCII.GetBytes(Magic));
            writer.Write(Version);
            writer.Write(corpus.CutoffLen);
            writer.Write(corpus.Datasets.Count);
            foreach (var d in corpus.Datasets)
            {
                writer.Write(d.Name);
                writer.Write(d.IsOldLanguage);
                writer.Write(d.Documents);
                writer.Write(d.Tokens);
                writer.Write(d.Blocks);
                writer.Write(d.DroppedTokens);
            }
            writer.Write(corpus.Count);
            for (int b = 0; b < corpus.Count; b++)
            {
                foreach (int id in corpus.Blocks[b]) writer.Write(id);
                foreach (bool old in corpus.OldLanguage[b]) writer.Write(old);
            }
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The cached corpus, or null when there is none or it is not in this version's format.</summary>
    public static PackedCorpus? TryRead(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
            if (Encoding.ASCII.GetString(reader.ReadBytes(Magic.Length)) != Magic || reader.ReadInt32() != Version)
                return null;
            int cutoffLen = reader.ReadInt32();
            var datasets = new PackedDatasetStats[reader.ReadInt32()];
            for (int i = 0; i < datasets.Length; i++)
                datasets[i] = new PackedDatasetStats(reader.ReadString(), reader.ReadBoolean(), reader.ReadInt32(),
                    reader.ReadInt64(), reader.ReadInt32(), reader.ReadInt32());
            int count = reader.ReadInt32();
            var blocks = new int[count][];
            var masks = new bool[count][];
            for (int b = 0; b < count; b++)
            {
                blocks[b] = new int[cutoffLen];
                masks[b] = new bool[cutoffLen];
                for (int t = 0; t < cutoffLen; t++) blocks[b][t] = reader.ReadInt32();
                for (int t = 0; t < cutoffLen; t++) masks[b][t] = reader.ReadBoolean();
            }
            return new PackedCorpus(cutoffLen, blocks, masks, datasets, fromCache: true);
        }
        catch (EndOfStreamException) { return null; }
    }
}
