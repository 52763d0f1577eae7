using MoeLpr.Data;

namespace MoeLpr.Tests.Data;

public class DocumentReaderTests
{
    static string Write(string name, string content)
    {
        string path = Path.Combine(DataTestFiles.NewTempDir(), name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void ReadsJsonLinesInOrderSkippingBlankLinesAndIgnoringOtherFields()
    {
        string path = Write("d.jsonl", "{\"text\": \"one\", \"id\": 1}\n\n{\"text\": \"two\"}\n{\"text\": \"三\"}\n");
        Assert.Equal(["one", "two", "三"], DocumentReader.Read(path, "text"));
    }

    [Fact]
    public void MaxSamplesTakesTheFirstDocumentsWithoutReadingFurther()
    {
        // Line 3 is broken: taking the first two documents must not even look at it.
        string path = Write("d.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\"}\n{broken\n");
        Assert.Equal(["a", "b"], DocumentReader.Read(path, "text", maxSamples: 2));
    }

    [Fact]
    public void MalformedLineIsReportedAsFileAndLine()
    {
        string path = Write("bad.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\"}\n{\"text\": \"c\"\n");
        var error = Assert.Throws<InvalidDataException>(() => DocumentReader.Read(path, "text"));
        Assert.StartsWith($"{path}:3: malformed JSON", error.Message);
    }

    /// <summary>Bytes that are not UTF-8 are an error, where decoding turned them into U+FFFD unnoticed.</summary>
    [Fact]
    public void InvalidUtf8IsAnError()
    {
        var bytes = "{\"text\": \"a\"}\n{\"text\": \"b"u8.ToArray().Concat(new byte[] { 0xC3, 0x28 })
            .Concat("\"}\n"u8.ToArray()).ToArray();
        foreach (var name in new[] { "bad.jsonl", "bad.json" })
        {
            string path = Write(name, "");
            File.WriteAllBytes(path, name.EndsWith(".json")
                ? [.. "[{\"text\": \"a"u8.ToArray(), 0xC3, 0x28, .. "\"}]"u8.ToArray()]
                : bytes);
            var error = Assert.Throws<InvalidDataException>(() => DocumentReader.Read(path, "text"));
            Assert.StartsWith($"{path}: not valid UTF-8", error.Message);
        }
    }

    [Fact]
    public void MissingColumnIsReportedWithItsName()
    {
        string path = Write("d.jsonl", "{\"text\": \"a\"}\n{\"content\": \"b\"}\n");
        var error = Assert.Throws<InvalidDataException>(() => DocumentReader.Read(path, "text"));
        Assert.Equal($"{path}:2: no \"text\" field", error.Message);
    }

    [Fact]
    public void NonStringColumnAndNonObjectLinesAreErrors()
    {
        string numbers = Write("n.jsonl", "{\"text\": 5}\n");
        Assert.Equal($"{numbers}:1: \"text\" is Number, expected a string",
            Assert.Throws<InvalidDataException>(() => DocumentReader.Read(numbers, "text")).Message);
        string array = Write("a.jsonl", "[\"text\"]\n");
        Assert.Equal($"{array}:1: expected a JSON object, found Array",
            Assert.Throws<InvalidDataException>(() => DocumentReader.Read(array, "text")).Message);
    }

    [Fact]
    public void ReadsJsonArraysWithACustomColumn()
    {
        string path = Write("d.json", "[{\"body\": \"x\"}, {\"body\": \"y\"}, {\"body\": \"z\"}]");
        Assert.Equal(["x", "y"], DocumentReader.Read(path, "body", maxSamples: 2));
    }

    [Fact]
    public void JsonArrayErrorsNameTheFileAndLineOrItem()
    {
        string broken = Write("b.json", "[\n{\"text\": \"x\"},\n{\"text\" \"y\"}\n]");
        Assert.StartsWith($"{broken}:3: malformed JSON",
            Assert.Throws<InvalidDataException>(() => DocumentReader.Read(broken, "text")).Message);
        string missing = Write("m.json", "[{\"text\": \"x\"}, {\"other\": \"y\"}]");
        Assert.Equal($"{missing}: item 1: no \"text\" field",
            Assert.Throws<InvalidDataException>(() => DocumentReader.Read(missing, "text")).Message);
        string notArray = Write("o.json", "{\"text\": \"x\"}");
        Assert.Equal($"{notArray}: expected a JSON array of objects, found Object",
            Assert.Throws<InvalidDataException>(() => DocumentReader.Read(notArray, "text")).Message);
    }

    [Fact]
    public void MissingFileAndUnknownExtensionAreErrors()
    {
        string absent = Path.Combine(DataTestFiles.NewTempDir(), "absent.jsonl");
        Assert.Equal($"{absent}: file not found",
            Assert.Throws<InvalidDataException>(() => DocumentReader.Read(absent, "text")).Message);
        string csv = Write("d.csv", "text\nx\n");
        Assert.Equal($"{csv}: unsupported dataset file type '.csv' (expected .jsonl or .json)",
            Assert.Throws<InvalidDataException>(() => DocumentReader.Read(csv, "text")).Message);
    }
}
