namespace MoeLpr.Checkpoints;

/// <summary>Where one checkpoint tensor lives: the file (via its header) and its entry in that file.</summary>
public sealed record TensorLocation(SafeTensorsHeader File, SafeTensorsEntry Entry);
