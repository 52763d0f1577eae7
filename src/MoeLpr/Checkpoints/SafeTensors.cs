using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Checkpoints;

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
/// <c>{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}</c> padded with spaces to 8 bytes,
/// then the raw little-endian tensor bytes. Tensor bytes move in chunks so tensors over 2 GiB (beyond a
/// <see cref="Span{T}"/>) work. Kept instead of TorchSharp.PyBridge 1.4.4, measured against it on every case the tests
/// cover: PyBridge has no header-only read, writes no <c>__metadata__</c> and no alignment padding, overwrites files in
/// place (a failed save destroys the old file; a shorter one leaves stale bytes HF rejects), cannot save non-contiguous
/// tensors, skips the overlap and range checks, reads a whole checkpoint before copying (+2.3 GB peak on a 2.4 GB
/// file, against one tensor at a time here) and reports malformed files without naming them.
/// </summary>
public static class SafeTensors
{
    /// <summary>The chunk size for moving tensor bytes between a file and a tensor.</summary>
    internal const long DefaultChunkBytes = 64L << 20;

    /// <summary>
    /// The reference implementation refuses headers above 100 MB; so do we (a corrupt length is the usual cause).
    /// </summary>
    const long MaxHeaderBytes = 100_000_000;

    const string MetadataKey = "__metadata__";

    /// <summary>Loads every tensor of a file onto the CPU, in the file's dtypes.</summary>
    public static Dictionary<string, Tensor> Load(string path) => Load(path, DefaultChunkBytes);

    internal static Dictionary<string, Tensor> Load(string path, long chunkBytes)
    {
        var header = ReadHeader(path);
        using var stream = File.OpenRead(path);
        var result = new Dictionary<string, Tensor>();
        foreach (var entry in header.Entries.Values)
            result[entry.Name] = ReadTensor(stream, header, entry, chunkBytes);
        return result;
    }

    /// <summary>
    /// Reads one tensor described by <paramref name="entry"/> from an open stream of <paramref name="header"/>'s file.
    /// </summary>
    public static Tensor ReadTensor(Stream stream, SafeTensorsHeader header, SafeTensorsEntry entry) =>
        ReadTensor(stream, header, entry, DefaultChunkBytes);

    internal static Tensor ReadTensor(Stream stream, SafeTensorsHeader header, SafeTensorsEntry entry, long chunkBytes)
    {
        var tensor = empty(entry.Shape, entry.DType);
        stream.Seek(header.DataStart + entry.Begin, SeekOrigin.Begin);
        try
        {
            CopyChunks(tensor, entry.ElementCount, SafeTensorsDType.SizeOf(entry.DType), chunkBytes,
                span => stream.ReadExactly(span));
        }
        catch (EndOfStreamException)
        {
            tensor.Dispose();
            throw new InvalidDataException($"{header.Path}: tensor '{entry.Name}': file ends inside its data");
        }
        return tensor;
    }

    /// <summary>Parses and validates the header; every problem is one line naming the file and the tensor.</summary>
    public static SafeTensorsHeader ReadHeader(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: safetensors file not found");
        using var stream = File.OpenRead(path);
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw new InvalidDataException($"{path}: too short for a safetensors header ({fileLength} bytes)");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8))
            throw new InvalidDataException(
                $"{path}: header length {headerLength} runs past the end of the file ({fileLength} bytes)");
        if (headerLength > MaxHeaderBytes)
            throw new InvalidDataException(
                $"{path}: header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        var json = new byte[headerLength];
        stream.ReadExactly(json);
        long dataStart = 8 + (long)headerLength;
        return ParseHeader(path, json, dataStart, fileLength - dataStart);
    }

    static SafeTensorsHeader ParseHeader(string path, byte[] json, long dataStart, long dataLength)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: header is not valid JSON ({e.Message})"); }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: header is not a JSON object");
            var entries = new Dictionary<string, SafeTensorsEntry>();
            var metadata = new Dictionary<string, string>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == MetadataKey) ReadMetadata(path, property.Value, metadata);
                else if (!entries.TryAdd(property.Name, ParseEntry(path, property.Name, property.Value, dataLength)))
                    throw new InvalidDataException($"{path}: tensor '{property.Name}' is named twice in the header");
            }
            CheckLayout(path, entries.Values, dataLength);
            return new SafeTensorsHeader(path, dataStart, entries, metadata);
        }
    }

    static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: __metadata__ is not an object");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{path}: __metadata__ value '{item.Name}' is not a string");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    static SafeTensorsEntry ParseEntry(string path, string name, JsonElement value, long dataLength)
    {
        string where = $"{path}: tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where}: entry is not an object");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"{where}: missing dtype");
        if (!SafeTensorsDType.TryParse(dtypeElement.GetString()!, out var dtype))
            throw new InvalidDataException($"{where}: unknown dtype '{dtypeElement.GetString()}'");
        var shape = ReadLongArray(value, "shape", where);
        if (shape.Any(d => d < 0))
            throw new InvalidDataException($"{where}: negative dimension in shape [{string.Join(", ", shape)}]");
        var offsets = ReadLongArray(value, "data_offsets", where);
        if (offsets.Length != 2) throw new InvalidDataException($"{where}: data_offsets must hold two numbers");
        long begin = offsets[0], end = offsets[1];
        if (begin < 0 || end < begin || end > dataLength)
            throw new InvalidDataException(
                $"{where}: data_offsets [{begin}, {end}] lie outside the data section (0..{dataLength})");
        var entry = new SafeTensorsEntry(name, dtype, shape, begin, end);
        long expected;
        try { expected = checked(entry.ElementCount * SafeTensorsDType.SizeOf(dtype)); }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{where}: shape [{string.Join(", ", shape)}] is too large");
        }
        if (expected != entry.ByteCount)
            throw new InvalidDataException(
                $"{where}: holds {entry.ByteCount} bytes but shape [{string.Join(", ", shape)}] of " +
                $"{dtypeElement.GetString()} needs {expected}");
        return entry;
    }

    static long[] ReadLongArray(JsonElement value, string field, string where)
    {
        if (!value.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{where}: missing {field}");
        var result = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out result[i++]))
                throw new InvalidDataException($"{where}: {field} must hold integers");
        }
        return result;
    }

    /// <summary>
    /// The tensors must tile the data section exactly, in offset order from 0, as the reference reader demands: an
    /// overlap, a gap, or bytes after the last tensor mean a corrupt or hand-edited file.
    /// </summary>
    static void CheckLayout(string path, IEnumerable<SafeTensorsEntry> entries, long dataLength)
    {
        long covered = 0;
        SafeTensorsEntry? previous = null;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin < covered)
                throw new InvalidDataException($"{path}: tensor '{entry.Name}' overlaps tensor '{previous!.Name}'");
            if (entry.Begin > covered)
                throw new InvalidDataException(
                    $"{path}: data bytes {covered}..{entry.Begin} before tensor '{entry.Name}' belong to no tensor");
            covered = entry.End;
            previous = entry;
        }
        if (covered != dataLength)
            throw new InvalidDataException(
                $"{path}: {dataLength - covered} data bytes after the last tensor belong to no tensor");
    }

    /// <summary>
    /// Writes the tensors (any device, any layout) with <c>format: pt</c> metadata plus <paramref name="metadata"/>.
    /// Atomic: the bytes go to a temporary file in the same folder, which then replaces <paramref name="path"/>.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Save(path, tensors, metadata, DefaultChunkBytes);

    internal static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata, long chunkBytes)
    {
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (names.Contains(MetadataKey))
            throw new ArgumentException($"{path}: '{MetadataKey}' is reserved and cannot name a tensor");
        var header = BuildHeader(names, tensors, metadata);
        string fullPath = System.IO.Path.GetFullPath(path);
        string folder = System.IO.Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(folder);   // else the error would name the temporary file, not the one asked for
        string temporary = System.IO.Path.Combine(folder,
            $".{System.IO.Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                Span<byte> lengthBytes = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)header.Length);
                stream.Write(lengthBytes);
                stream.Write(header);
                foreach (var name in names) WriteTensor(stream, tensors[name], chunkBytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    static byte[] BuildHeader(List<string> names, IReadOnlyDictionary<string, Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject(MetadataKey);
            var allMetadata = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["format"] = "pt" };
            foreach (var (key, value) in metadata ?? new Dictionary<string, string>()) allMetadata[key] = value;
            foreach (var (key, value) in allMetadata) writer.WriteString(key, value);
            writer.WriteEndObject();
            long offset = 0;
            foreach (var name in names)
            {
                var tensor = tensors[name];
                long bytes = tensor.NumberOfElements * SafeTensorsDType.SizeOf(tensor.dtype);
                writer.WriteStartObject(name);
                writer.WriteString("dtype", SafeTensorsDType.NameOf(tensor.dtype));
                writer.WriteStartArray("shape");
                foreach (var d in tensor.shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + bytes);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += bytes;
            }
            writer.WriteEndObject();
        }
        // Pad with spaces so the data section starts 8-byte aligned (as the reference writer does).
        int padding = (int)((8 - buffer.Length % 8) % 8);
        buffer.Write(Encoding.ASCII.GetBytes(new string(' ', padding)));
        return buffer.ToArray();
    }

    static void WriteTensor(Stream stream, Tensor tensor, long chunkBytes)
    {
        using var scope = NewDisposeScope();
        var cpu = tensor.detach().cpu().contiguous();
        CopyChunks(cpu, cpu.NumberOfElements, SafeTensorsDType.SizeOf(cpu.dtype), chunkBytes,
            span => stream.Write(span));
    }

    /// <summary>
    /// Visits a contiguous CPU tensor's bytes in pieces of at most <paramref name="chunkBytes"/>, so no single
    /// <see cref="Span{T}"/> has to cover more than 2 GiB.
    /// </summary>
    static void CopyChunks(Tensor tensor, long elements, int elementSize, long chunkBytes, SpanAction copy)
    {
        if (elements == 0) return;
        long chunkElements = Math.Max(1, Math.Min(chunkBytes, int.MaxValue) / elementSize);
        using var flat = tensor.view(-1);
        for (long start = 0; start < elements; start += chunkElements)
        {
            using var piece = flat.narrow(0, start, Math.Min(chunkElements, elements - start));
            copy(piece.bytes);
        }
    }

    delegate void SpanAction(Span<byte> span);
}
