using TorchSharp;

namespace MoeLpr.Checkpoints;

/// <summary>The parsed, validated header of one safetensors file: where its data starts and what it holds.</summary>
public sealed record SafeTensorsHeader(
    string Path,
    long DataStart,
    IReadOnlyDictionary<string, SafeTensorsEntry> Entries,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>Where one checkpoint tensor lives: the file (via its header) and its entry in that file.</summary>
public sealed record TensorLocation(SafeTensorsHeader File, SafeTensorsEntry Entry);

/// <summary>
/// One tensor in a safetensors header; <see cref="Begin"/>/<see cref="End"/> are relative to the data section.
/// </summary>
public sealed record SafeTensorsEntry(string Name, torch.ScalarType DType, long[] Shape, long Begin, long End)
{
    public long ByteCount => End - Begin;
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}
