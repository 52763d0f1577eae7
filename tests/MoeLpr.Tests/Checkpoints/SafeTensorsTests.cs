using System.Buffers.Binary;
using System.Text;
using MoeLpr.Checkpoints;
using MoeLpr.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Checkpoints;

public class SafeTensorsTests
{
    static readonly ScalarType[] AllDTypes =
    [
        ScalarType.Float64, ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16,
        ScalarType.Int64, ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.Byte, ScalarType.Bool,
    ];

    static Tensor RandomTensor(ScalarType dtype, long[] shape, int seed)
    {
        var generator = new Generator((ulong)seed);
        using var values = randn(shape, generator: generator) * 50;
        return dtype == ScalarType.Bool ? values.gt(0) : values.to_type(dtype);
    }

    static byte[] BytesOf(Tensor tensor) => tensor.contiguous().bytes.ToArray();

    [Fact]
    public void RoundTripIsBitIdenticalForEveryDType()
    {
        using var dir = new TempDirectory();
        var tensors = new Dictionary<string, Tensor>();
        for (int i = 0; i < AllDTypes.Length; i++)
            tensors[$"t.{AllDTypes[i]}"] = RandomTensor(AllDTypes[i], [3, 5], i);
        tensors["scalar"] = tensor(3.25f);
        tensors["empty"] = zeros(0, 4);
        string path = dir.File("all.safetensors");

        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["note"] = "round trip" });
        var loaded = SafeTensors.Load(path);

        Assert.Equal(tensors.Keys.OrderBy(k => k), loaded.Keys.OrderBy(k => k));
        foreach (var (name, original) in tensors)
        {
            Assert.Equal(original.dtype, loaded[name].dtype);
            Assert.Equal(original.shape, loaded[name].shape);
            Assert.Equal(BytesOf(original), BytesOf(loaded[name]));
        }
        var header = SafeTensors.ReadHeader(path);
        Assert.Equal("pt", header.Metadata["format"]);
        Assert.Equal("round trip", header.Metadata["note"]);
        Assert.Equal(0, header.DataStart % 8);
    }

    [Fact]
    public void Bfloat16ValuesSurviveExactly()
    {
        using var dir = new TempDirectory();
        // Values exactly representable in bf16 (8 significant bits), including extremes and signed zero.
        float[] values = [1.0f, -2.5f, 0.0078125f, 3.3895314e38f, -0.0f, 65280f, 1.5f * MathF.Pow(2, -126)];
        var original = tensor(values).to_type(ScalarType.BFloat16);
        string path = dir.File("bf16.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = original });

        var loaded = SafeTensors.Load(path)["w"];
        Assert.Equal(ScalarType.BFloat16, loaded.dtype);
        Assert.Equal(values, loaded.to_type(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal(BytesOf(original), BytesOf(loaded));
        // The file stores the raw upper half of each float32: 1.0f is 0x3F80.
        var raw = File.ReadAllBytes(path);
        long dataStart = SafeTensors.ReadHeader(path).DataStart;
        Assert.Equal(0x3F80, BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan((int)dataStart, 2)));
    }

    [Fact]
    public void ChunkedCopyMatchesWholeCopy()
    {
        // A 7-byte chunk rounds down to whole elements and cuts every tensor into many pieces: the path tensors over 2
        // GiB take.
        using var dir = new TempDirectory();
        var tensors = new Dictionary<string, Tensor>
        {
            ["a"] = RandomTensor(ScalarType.Float32, [17, 9], 1),
            ["b"] = RandomTensor(ScalarType.BFloat16, [33], 2),
            ["c"] = RandomTensor(ScalarType.Int8, [5, 3], 3),
        };
        string whole = dir.File("whole.safetensors"), chunked = dir.File("chunked.safetensors");
        SafeTensors.Save(whole, tensors);
        SafeTensors.Save(chunked, tensors, metadata: null, chunkBytes: 7);

        Assert.Equal(File.ReadAllBytes(whole), File.ReadAllBytes(chunked));
        var loaded = SafeTensors.Load(whole, chunkBytes: 7);
        foreach (var (name, original) in tensors) Assert.Equal(BytesOf(original), BytesOf(loaded[name]));
    }

    [Fact]
    public void SaveLeavesNoTemporaryFileAndReplacesExisting()
    {
        using var dir = new TempDirectory();
        string path = dir.File("w.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["x"] = ones(2) });
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["y"] = zeros(3) });

        Assert.Equal(["w.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        Assert.Equal(["y"], SafeTensors.Load(path).Keys);
    }

    [Fact]
    public void FailedSaveLeavesExistingFileUntouched()
    {
        using var dir = new TempDirectory();
        string path = dir.File("w.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["x"] = ones(2) });
        var before = File.ReadAllBytes(path);

        using var complex = zeros(2, dtype: ScalarType.ComplexFloat32);
        Assert.ThrowsAny<Exception>(() => SafeTensors.Save(path, new Dictionary<string, Tensor> { ["z"] = complex }));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    /// <summary>Writes a file with a hand-made header so each corruption can be produced exactly.</summary>
    static string WriteRaw(TempDirectory dir, string headerJson, int dataBytes, ulong? declaredLength = null)
    {
        string path = dir.File("bad.safetensors");
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    static void AssertOneLineError(string path, string expectedFragment, Action action)
    {
        var error = Assert.Throws<InvalidDataException>(action);
        Assert.StartsWith(path + ":", error.Message);
        Assert.Contains(expectedFragment, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void HeaderLengthBeyondFileIsRejected()
    {
        using var dir = new TempDirectory();
        string path = WriteRaw(dir, "{}", 0, declaredLength: 1_000_000);
        AssertOneLineError(path, "runs past the end of the file", () => SafeTensors.Load(path));
    }

    [Fact]
    public void CorruptJsonHeaderIsRejected()
    {
        using var dir = new TempDirectory();
        string path = WriteRaw(dir, "{\"w\": {\"dtype\": ", 0);
        AssertOneLineError(path, "not valid JSON", () => SafeTensors.Load(path));
    }

    [Fact]
    public void OverlappingOffsetsAreRejected()
    {
        using var dir = new TempDirectory();
        string path = WriteRaw(dir,
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12);
        AssertOneLineError(path, "tensor 'b' overlaps tensor 'a'", () => SafeTensors.Load(path));
    }

    [Fact]
    public void GapBetweenTensorsIsRejected()
    {
        using var dir = new TempDirectory();
        string path = WriteRaw(dir,
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}""", 16);
        AssertOneLineError(path, "data bytes 8..12 before tensor 'b' belong to no tensor",
            () => SafeTensors.Load(path));
    }

    [Fact]
    public void BytesAfterTheLastTensorAreRejected()
    {
        using var dir = new TempDirectory();
        string path = WriteRaw(dir, """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 11);
        AssertOneLineError(path, "3 data bytes after the last tensor belong to no tensor",
            () => SafeTensors.Load(path));
    }

    [Fact]
    public void TensorNamedTwiceIsRejected()
    {
        using var dir = new TempDirectory();
        string path = WriteRaw(dir,
            """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8);
        AssertOneLineError(path, "tensor 'a' is named twice in the header", () => SafeTensors.Load(path));
    }

    [Fact]
    public void OffsetsOutsideTheDataAreRejected()
    {
        using var dir = new TempDirectory();
        string path = WriteRaw(dir, """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 8);
        AssertOneLineError(path, "tensor 'a': data_offsets [0, 16] lie outside", () => SafeTensors.Load(path));
    }

    [Fact]
    public void ByteCountNotMatchingShapeIsRejected()
    {
        using var dir = new TempDirectory();
        string path = WriteRaw(dir, """{"a":{"dtype":"BF16","shape":[3],"data_offsets":[0,8]}}""", 8);
        AssertOneLineError(path, "tensor 'a': holds 8 bytes but shape [3] of BF16 needs 6",
            () => SafeTensors.Load(path));
    }

    [Fact]
    public void UnknownDTypeIsRejected()
    {
        using var dir = new TempDirectory();
        string path = WriteRaw(dir, """{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}""", 2);
        AssertOneLineError(path, "tensor 'a': unknown dtype 'F8_E4M3'", () => SafeTensors.Load(path));
    }

    [Fact]
    public void TruncatedFileIsRejected()
    {
        using var dir = new TempDirectory();
        string path = dir.File("short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        AssertOneLineError(path, "too short", () => SafeTensors.Load(path));
    }
}
