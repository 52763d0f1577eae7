using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace MoeLpr.Checkpoints;

/// <summary>
/// The weights of a checkpoint folder as HF lays them out: one <c>model.safetensors</c>, or shards
/// <c>model-0000x-of-0000y.safetensors</c> listed by <c>model.safetensors.index.json</c> (<c>weight_map</c>: key →
/// shard). Opening reads only headers, so key and shape checks happen before any tensor data is read.
/// </summary>
public sealed class SafeTensorsCheckpoint
{
    SafeTensorsCheckpoint(string source, IReadOnlyDictionary<string, TensorLocation> tensors)
    {
        Source = source;
        Tensors = tensors;
    }

    /// <summary>
    /// The file that lists the keys (the single safetensors file or the index); errors about the key set name it.
    /// </summary>
    public string Source { get; }

    public IReadOnlyDictionary<string, TensorLocation> Tensors { get; }

    public static string IndexFileName(string fileName) => fileName + ".index.json";

    /// <summary>
    /// Opens <paramref name="fileName"/> in <paramref name="dir"/>, or its sharded form when only the index exists.
    /// </summary>
    public static SafeTensorsCheckpoint Open(string dir, string fileName = "model.safetensors")
    {
        string single = Path.Combine(dir, fileName);
        if (File.Exists(single))
        {
            var header = SafeTensors.ReadHeader(single);
            return new SafeTensorsCheckpoint(single,
                header.Entries.ToDictionary(e => e.Key, e => new TensorLocation(header, e.Value)));
        }
        string index = Path.Combine(dir, IndexFileName(fileName));
        if (File.Exists(index)) return OpenSharded(dir, index);
        throw new InvalidDataException($"{single}: not found (nor a sharded {IndexFileName(fileName)})");
    }

    static SafeTensorsCheckpoint OpenSharded(string dir, string index)
    {
        var weightMap = ReadWeightMap(index);
        var headers = new Dictionary<string, SafeTensorsHeader>();
        foreach (var shard in weightMap.Values.Distinct())
        {
            string shardPath = Path.Combine(dir, shard);
            if (!File.Exists(shardPath))
                throw new InvalidDataException($"{index}: shard '{shard}' listed in weight_map is missing");
            headers[shard] = SafeTensors.ReadHeader(shardPath);
        }
        var tensors = new Dictionary<string, TensorLocation>();
        foreach (var (key, shard) in weightMap)
        {
            var header = headers[shard];
            if (!header.Entries.TryGetValue(key, out var entry))
                throw new InvalidDataException(
                    $"{header.Path}: tensor '{key}' is listed for this shard in the index but absent");
            tensors[key] = new TensorLocation(header, entry);
        }
        foreach (var header in headers.Values)
            foreach (var key in header.Entries.Keys)
                if (!weightMap.ContainsKey(key))
                    throw new InvalidDataException(
                        $"{header.Path}: tensor '{key}' is not listed in the index weight_map");
        return new SafeTensorsCheckpoint(index, tensors);
    }

    static Dictionary<string, string> ReadWeightMap(string index)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(index)); }
        catch (JsonException e) { throw new InvalidDataException($"{index}: not valid JSON ({e.Message})"); }
        if (root?["weight_map"] is not JsonObject map)
            throw new InvalidDataException($"{index}: missing object 'weight_map'");
        var result = new Dictionary<string, string>();
        foreach (var (key, value) in map)
        {
            if (value is not JsonValue v || !v.TryGetValue<string>(out var shard))
                throw new InvalidDataException($"{index}: weight_map entry '{key}' is not a file name");
            if (shard != Path.GetFileName(shard))
                throw new InvalidDataException(
                    $"{index}: weight_map entry '{key}' points outside the folder ('{shard}')");
            result[key] = shard;
        }
        return result;
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> (in the given order) into <paramref name="dir"/> as one file, or, when
    /// <paramref name="maxShardBytes"/> is set and they do not fit, as shards plus an index (the HF rule: a shard is
    /// closed when the next tensor would push it past the limit; a single oversized tensor gets a shard of its own).
    /// Returns the names of the files written.
    /// </summary>
    public static IReadOnlyList<string> Write(string dir, IReadOnlyList<KeyValuePair<string, Tensor>> tensors,
                                              long? maxShardBytes = null, string fileName = "model.safetensors")
    {
        var shards = new List<List<KeyValuePair<string, Tensor>>> { new() };
        long shardBytes = 0, totalBytes = 0;
        foreach (var pair in tensors)
        {
            long bytes = pair.Value.NumberOfElements * SafeTensorsDType.SizeOf(pair.Value.dtype);
            if (maxShardBytes is long limit && shards[^1].Count > 0 && shardBytes + bytes > limit)
            {
                shards.Add([]);
                shardBytes = 0;
            }
            shards[^1].Add(pair);
            shardBytes += bytes;
            totalBytes += bytes;
        }

        if (shards.Count == 1)
        {
            SafeTensors.Save(Path.Combine(dir, fileName), ToDictionary(shards[0]));
            return [fileName];
        }

        string stem = Path.GetFileNameWithoutExtension(fileName), extension = Path.GetExtension(fileName);
        var written = new List<string>();
        var weightMap = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            string shardName = $"{stem}-{i + 1:D5}-of-{shards.Count:D5}{extension}";
            SafeTensors.Save(Path.Combine(dir, shardName), ToDictionary(shards[i]));
            foreach (var pair in shards[i]) weightMap[pair.Key] = shardName;
            written.Add(shardName);
        }
        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = totalBytes },
            ["weight_map"] = weightMap,
        };
        File.WriteAllText(Path.Combine(dir, IndexFileName(fileName)),
            index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        written.Add(IndexFileName(fileName));
        return written;
    }

    static Dictionary<string, Tensor> ToDictionary(List<KeyValuePair<string, Tensor>> pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value);
}
