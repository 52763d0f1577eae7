using MoeLpr.Data;

namespace MoeLpr.Tests.Data;

public class DatasetRegistryTests
{
    /// <summary>
    /// A registry with <c>en</c> (old), <c>el</c> (new) and <c>plain</c> (no language) in a sub-folder.
    /// </summary>
    static (string Info, string Dir) MakeRegistry()
    {
        string dir = DataTestFiles.NewTempDir();
        Directory.CreateDirectory(Path.Combine(dir, "files"));
        File.WriteAllText(Path.Combine(dir, "files", "en.jsonl"),
            "{\"text\": \"hello\"}\n{\"text\": \"world\"}\n{\"text\": \"again\"}\n");
        File.WriteAllText(Path.Combine(dir, "files", "el.jsonl"), "{\"text\": \"γεια\"}\n");
        File.WriteAllText(Path.Combine(dir, "files", "plain.jsonl"), "{\"text\": \"x\"}\n");
        string info = Path.Combine(dir, "dataset_info.json");
        DatasetInfoWriter.Register(info, "en", Path.Combine(dir, "files", "en.jsonl"), "old");
        DatasetInfoWriter.Register(info, "el", Path.Combine(dir, "files", "el.jsonl"), "new");
        File.WriteAllText(info,
            File.ReadAllText(info).TrimEnd().TrimEnd('}') + ", \"plain\": {\"file_name\": \"files/plain.jsonl\"}}");
        return (info, dir);
    }

    [Fact]
    public void LoadsDocumentsLanguageAndRelativePaths()
    {
        var (info, dir) = MakeRegistry();
        var registry = DatasetRegistry.Open(info);
        Assert.Equal("files/en.jsonl", registry.Get("en").FileName);
        var en = registry.Load("en", maxSamples: 2, requireLanguage: true);
        Assert.Equal(["hello", "world"], en.Documents);
        Assert.True(en.IsOldLanguage);
        Assert.Equal(Path.Combine(dir, "files", "en.jsonl"), en.FilePath);
        Assert.Equal(FileHashes.Sha1(en.FilePath), en.FileSha1);
        Assert.False(registry.Load("el").IsOldLanguage);
        Assert.Null(registry.Load("plain").IsOldLanguage);
        Assert.Equal(["en", "el"], registry.LoadMany(DatasetRegistry.ParseNames(" en, el ")).Select(d => d.Name));
    }

    [Fact]
    public void Sha1MismatchIsAnErrorUnlessAllowed()
    {
        var (info, dir) = MakeRegistry();
        string file = Path.Combine(dir, "files", "en.jsonl");
        File.AppendAllText(file, "{\"text\": \"added later\"}\n");
        var registry = DatasetRegistry.Open(info);
        var error = Assert.Throws<InvalidDataException>(() => registry.Load("en"));
        Assert.StartsWith(
            $"{file}: SHA-1 is {FileHashes.Sha1(file)} but dataset 'en' in {info} expects ", error.Message);
        Assert.Equal(4, registry.Load("en", allowSha1Mismatch: true).Documents.Count);
    }

    [Fact]
    public void UnknownDatasetListsTheKnownOnes()
    {
        var (info, _) = MakeRegistry();
        var error = Assert.Throws<InvalidDataException>(() => DatasetRegistry.Open(info).Load("hu"));
        Assert.Equal($"{info}: unknown dataset 'hu' (known: el, en, plain)", error.Message);
    }

    [Fact]
    public void MissingLanguageIsAnErrorOnlyWhenMasksAreRequested()
    {
        var (info, _) = MakeRegistry();
        var registry = DatasetRegistry.Open(info);
        Assert.Single(registry.Load("plain").Documents);
        var error = Assert.Throws<InvalidDataException>(() => registry.Load("plain", requireLanguage: true));
        Assert.Equal($"{info}: dataset 'plain' has no \"language\" (\"old\" or \"new\"), " +
                     $"which language masks need", error.Message);
    }

    [Fact]
    public void EmptyDatasetIsAnError()
    {
        var (info, dir) = MakeRegistry();
        string file = Path.Combine(dir, "files", "empty.jsonl");
        File.WriteAllText(file, "\n\n");
        DatasetInfoWriter.Register(info, "empty", file, "new");
        var error = Assert.Throws<InvalidDataException>(() => DatasetRegistry.Open(info).Load("empty"));
        Assert.Equal($"{file}: dataset 'empty' has no documents", error.Message);
    }

    [Fact]
    public void MissingDataFileIsAnError()
    {
        var (info, dir) = MakeRegistry();
        File.Delete(Path.Combine(dir, "files", "el.jsonl"));
        var error = Assert.Throws<InvalidDataException>(() => DatasetRegistry.Open(info).Load("el"));
        Assert.Equal($"{Path.Combine(dir, "files", "el.jsonl")}: file of dataset 'el' not found", error.Message);
    }

    [Fact]
    public void BadRegistryFilesAreErrors()
    {
        string dir = DataTestFiles.NewTempDir();
        string info = Path.Combine(dir, "dataset_info.json");
        Assert.Equal($"{info}: dataset_info.json not found",
            Assert.Throws<InvalidDataException>(() => DatasetRegistry.Open(info)).Message);
        // The default registry path is relative: run from another folder, the message says where it looked.
        Assert.Equal($"no/such/dataset_info.json: dataset_info.json not found (relative to the current folder, " +
                     $"{Environment.CurrentDirectory}; name it with --dataset-info)",
            Assert.Throws<InvalidDataException>(() => DatasetRegistry.Open("no/such/dataset_info.json")).Message);
        string ErrorOfEntry(string registry)
        {
            File.WriteAllText(info, registry);
            return Assert.Throws<InvalidDataException>(() => DatasetRegistry.Open(info).Get("x")).Message;
        }
        Assert.Equal($"{info}: dataset 'x' has language 'ancient', expected 'old' or 'new'",
            ErrorOfEntry("{\"x\": {\"file_name\": \"x.jsonl\", \"language\": \"ancient\"}}"));
        Assert.StartsWith($"{info}: dataset 'x' has no file_name", ErrorOfEntry("{\"x\": {\"language\": \"old\"}}"));
        Assert.Equal($"{info}: dataset 'x' has file_sha1 'abc', which is not 40 hexadecimal digits",
            ErrorOfEntry("{\"x\": {\"file_name\": \"x.jsonl\", \"file_sha1\": \"abc\"}}"));
        Assert.Equal($"{info}: dataset 'x' is null, not an object", ErrorOfEntry("{\"x\": null}"));
        File.WriteAllText(info, "{\"x\": ");
        Assert.StartsWith($"{info}: not a valid dataset_info.json",
            Assert.Throws<InvalidDataException>(() => DatasetRegistry.Open(info)).Message);
    }

    /// <summary>
    /// LLaMA-Factory's registries also list hub datasets (no file_name); the kit cannot read them, but they must not
    /// stop a run on the local ones.
    /// </summary>
    [Fact]
    public void EntriesTheKitCannotRead_StopOnlyARunThatAsksForThem()
    {
        var (info, _) = MakeRegistry();
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(info))!.AsObject();
        json["hub"] = System.Text.Json.Nodes.JsonNode.Parse("{\"hf_hub_url\": \"someone/corpus\"}");
        json["nothing"] = null;
        File.WriteAllText(info, json.ToJsonString());

        var registry = DatasetRegistry.Open(info);
        Assert.NotEmpty(registry.Load("el").Documents);
        Assert.Contains("hub datasets such as hf_hub_url are not supported",
            Assert.Throws<InvalidDataException>(() => registry.Load("hub")).Message);
    }

    [Fact]
    public void RegisteringInAMalformedRegistry_IsAnErrorNamingIt()
    {
        var (info, dir) = MakeRegistry();
        File.WriteAllText(info, "{ not json");
        var error = Assert.Throws<InvalidDataException>(() =>
            DatasetInfoWriter.Register(info, "more", Path.Combine(dir, "files", "en.jsonl"), "old"));
        Assert.StartsWith($"{info}: not a valid dataset_info.json", error.Message);
    }

    [Fact]
    public void ShippedDatasetsAllMatchTheirSha1AndLanguage()
    {
        var registry = DatasetRegistry.Open(DataTestFiles.DatasetInfo);
        string[] old = ["en", "es", "zh"], @new = ["el", "hu", "tr"];
        foreach (string language in old.Concat(@new))
            foreach (string split in new[] { "train", "valid", "test" })
            {
                var dataset = registry.Load($"{language}_{split}", maxSamples: 1, requireLanguage: true);
                Assert.Equal(old.Contains(language), dataset.IsOldLanguage);
                Assert.True(dataset.Documents[0].Length >= HelpCorpusBuilder.MinimumPageChars);
            }
        Assert.False(registry.Load("moelpr_ja", requireLanguage: true).IsOldLanguage);
        Assert.True(registry.Load("moelpr_zh", requireLanguage: true).IsOldLanguage);
        Assert.Equal(registry.Load("moelpr_ja").Documents.Count, registry.Load("moelpr_zh").Documents.Count);
    }
}
