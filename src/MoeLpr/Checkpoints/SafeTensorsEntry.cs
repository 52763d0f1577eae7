using TorchSharp;

namespace MoeLpr.Checkpoints;

/// <summary>One tensor in a safetensors header; <see cref="Begin"/>/<see cref="End"/> are relative to the data section.</summary>
public sealed record SafeTensorsEntry(string Name, torch.ScalarType DType, long[] Shape, long Begin, long End)
{
    public long ByteCount => End - Begin;
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}
