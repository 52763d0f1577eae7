using System.Text;
using MoeLpr.Data;

namespace MoeLpr.Tests.Data;

public class TokenizerLoaderTests
{
    [Fact]
    public void TokenizerJsonThroughMicrosoftMlGivesTheTrainersIds()
    {
        var loaded = TokenizerLoader.Load(SmallTokenizer.Directory);
        Assert.Equal(SmallTokenizer.Bpe.EndOfTextId, loaded.EosId);
        Assert.Equal("tokenizer.json (byte-level BPE)", loaded.Kind);
        var registry = DatasetRegistry.Open(DataTestFiles.DatasetInfo);
        var texts = SmallTokenizer.Samples.Concat(new[] { "en_valid", "zh_valid", "el_valid", "tr_valid",
            "moelpr_ja" }.SelectMany(name => registry.Load(name, maxSamples: 3).Documents));
        foreach (string text in texts)
        {
            Assert.Equal(SmallTokenizer.Bpe.Encode(text), loaded.Encode(text));
            Assert.Equal(text, loaded.Decode(loaded.Encode(text)));
        }
    }

    [Fact]
    public void EosComesFromConfigJsonWhenTokenizerConfigIsAbsent()
    {
        string dir = CopyOfSmallTokenizer();
        File.Delete(Path.Combine(dir, "tokenizer_config.json"));
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"eos_token_id\": [42, 7]}");
        Assert.Equal(42, TokenizerLoader.Load(dir).EosId);
        File.Delete(Path.Combine(dir, "config.json"));
        Assert.Equal(SmallTokenizer.Bpe.EndOfTextId, TokenizerLoader.Load(dir).EosId); // the usual name
    }

    [Fact]
    public void UnknownEosTokenIsAnError()
    {
        string dir = CopyOfSmallTokenizer();
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"eos_token\": {\"content\": \"<|im_end|>\"}}");
        var error = Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(dir));
        Assert.Equal($"{Path.Combine(dir, "tokenizer_config.json")}: " +
                     $"eos_token '<|im_end|>' is not in the vocabulary", error.Message);
    }

    [Fact]
    public void Gpt2StyleByteLevelPreTokenizerIsRead()
    {
        string dir = CopyOfSmallTokenizer();
        string json = Path.Combine(dir, "tokenizer.json");
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(json))!;
        root["pre_tokenizer"] = System.Text.Json.Nodes.JsonNode.Parse(
            "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}");
        File.WriteAllText(json, root.ToJsonString());
        var loaded = TokenizerLoader.Load(dir);
        foreach (string text in SmallTokenizer.Samples) Assert.Equal(text, loaded.Decode(loaded.Encode(text)));
    }

    [Fact]
    public void UnsupportedOrMissingTokenizersAreErrors()
    {
        string empty = DataTestFiles.NewTempDir();
        Assert.Equal($"{empty}: no tokenizer.json or tokenizer.model",
            Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(empty)).Message);
        string absent = Path.Combine(empty, "nope");
        Assert.Equal($"{absent}: tokenizer directory not found",
            Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(absent)).Message);

        string wordPiece = DataTestFiles.NewTempDir();
        File.WriteAllText(Path.Combine(wordPiece, "tokenizer.json"),
            "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}");
        Assert.Equal(
            $"{Path.Combine(wordPiece, "tokenizer.json")}: only BPE models are supported (model.type is not \"BPE\")",
            Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(wordPiece)).Message);

        string metaspace = DataTestFiles.NewTempDir();
        File.WriteAllText(Path.Combine(metaspace, "tokenizer.json"),
            "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}, \"pre_tokenizer\": " +
            "{\"type\": \"Metaspace\"}}");
        Assert.Equal($"{Path.Combine(metaspace, "tokenizer.json")}: pre-tokenizer 'Metaspace' is not " +
                     $"supported (byte-level BPE only)",
            Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(metaspace)).Message);

        string garbage = DataTestFiles.NewTempDir();
        File.WriteAllBytes(Path.Combine(garbage, "tokenizer.model"), [0xFF, 0xFE, 0x01, 0x02, 0x03]);
        Assert.StartsWith($"{Path.Combine(garbage, "tokenizer.model")}: not a SentencePiece BPE model or tiktoken file",
            Assert.Throws<InvalidDataException>(() => TokenizerLoader.Load(garbage)).Message);
    }

    [Fact]
    public void TiktokenRankFileLoadsWithSpecialsFromTokenizerConfig()
    {
        // A tiktoken file holds "base64(token bytes) rank" lines; our vocabulary's ranks are its ids.
        var bpe = SmallTokenizer.Bpe;
        string dir = DataTestFiles.NewTempDir();
        var lines = Enumerable.Range(0, bpe.EndOfTextId)
            .Select(id => $"{Convert.ToBase64String(ByteLevelAlphabet.Decode(bpe.Tokens[id]))} {id}");
        File.WriteAllText(Path.Combine(dir, "tokenizer.model"), string.Join("\n", lines) + "\n");
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"),
            $"{{\"eos_token\": \"<|endoftext|>\", \"added_tokens_decoder\": {{\"{bpe.EndOfTextId}\": {{\"content\": " +
            $"\"<|endoftext|>\", \"special\": true}}}}}}");
        var loaded = TokenizerLoader.Load(dir);
        Assert.Equal("tiktoken", loaded.Kind);
        Assert.Equal(bpe.EndOfTextId, loaded.EosId);
        foreach (string text in SmallTokenizer.Samples)
            Assert.Equal(text, loaded.Decode(loaded.Encode(text)));
        Assert.Equal(bpe.Encode("Choose Format - Cells"), loaded.Encode("Choose Format - Cells"));
    }

    [Fact]
    public void SentencePieceModelLoadsWithoutBosAndWithItsEos()
    {
        string dir = DataTestFiles.NewTempDir();
        SentencePieceModelWriter.Write(Path.Combine(dir, "tokenizer.model"),
            [("▁", -1), ("a", -2), ("b", -3), ("c", -4), ("ab", -5), ("▁ab", -6), ("▁c", -7)]);
        var loaded = TokenizerLoader.Load(dir);
        Assert.Equal("SentencePiece", loaded.Kind);
        Assert.Equal(2, loaded.EosId);
        var ids = loaded.Encode("ab c ab");
        Assert.Equal([8, 9, 8], ids); // "▁ab" "▁c" "▁ab": dummy prefix, no BOS (id 1)
        Assert.Equal("ab c ab", loaded.Decode(ids));
    }

    [Fact]
    public void ShippedTokenizerLoadsWithEightThousandTokensAndRoundTrips()
    {
        var loaded = TokenizerLoader.Load(Path.Combine(DataTestFiles.RepoRoot, "data", "tokenizer"));
        Assert.Equal(7999, loaded.EosId);
        Assert.Equal(ByteLevelBpe.EndOfText, loaded.Decode([loaded.EosId]));
        var registry = DatasetRegistry.Open(DataTestFiles.DatasetInfo);
        foreach (string text in SmallTokenizer.Samples.Concat(registry.Load("moelpr_ja", maxSamples: 2).Documents))
        {
            var ids = loaded.Encode(text);
            Assert.All(ids, id => Assert.InRange(id, 0, 7998));
            Assert.Equal(text, loaded.Decode(ids));
        }
    }

    static string CopyOfSmallTokenizer()
    {
        string dir = DataTestFiles.NewTempDir();
        foreach (string file in Directory.GetFiles(SmallTokenizer.Directory))
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        return dir;
    }
}
