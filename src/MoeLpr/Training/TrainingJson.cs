using System.Text.Json.Serialization;
using MoeLpr.Data;

namespace MoeLpr.Training;

/// <summary>Source-generated JSON metadata for the training files (trim-safe, see <c>Model/ModelJson</c>).</summary>
[JsonSerializable(typeof(TrainingMetrics))]
[JsonSerializable(typeof(TrainerState))]
[JsonSerializable(typeof(RunLockHolder))]
[JsonSerializable(typeof(Dictionary<string, DatasetEntry>))]
[JsonSerializable(typeof(string))]
internal sealed partial class TrainingJson : JsonSerializerContext;
