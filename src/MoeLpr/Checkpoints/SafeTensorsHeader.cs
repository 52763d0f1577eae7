namespace MoeLpr.Checkpoints;

/// <summary>The parsed, validated header of one safetensors file: where its data starts and what it holds.</summary>
public sealed record SafeTensorsHeader(
    string Path,
    long DataStart,
    IReadOnlyDictionary<string, SafeTensorsEntry> Entries,
    IReadOnlyDictionary<string, string> Metadata);
