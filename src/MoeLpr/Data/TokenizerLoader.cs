using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace MoeLpr.Data;

/// <summary>A tokenizer read from a model directory, with its end-of-sequence id and the files it came from
/// (their bytes key the packing cache).</summary>
/// <param name="Kind">"tokenizer.json (byte-level BPE)", "SentencePiece" or "tiktoken".</param>
public sealed record LoadedTokenizer(Tokenizer Tokenizer, int EosId, string Kind, IReadOnlyList<string> SourceFiles)
{
    /// <summary>Ids of a document as the reference tokenises it: <c>add_special_tokens=False</c>, so no BOS.</summary>
    public IReadOnlyList<int> Encode(string text) => Tokenizer.EncodeToIds(text);

    public string Decode(IEnumerable<int> ids) => Tokenizer.Decode(ids);
}

/// <summary>
/// Loads the tokenizer of a HuggingFace model directory with Microsoft.ML.Tokenizers:
/// <c>tokenizer.json</c> with a byte-level BPE model (GPT-2, Qwen2, Llama 3, the kit's own), else
/// <c>tokenizer.model</c> as SentencePiece BPE (Llama 2, Mistral) or, when it is a tiktoken rank file, tiktoken
/// (Llama 3 <c>original/tokenizer.model</c>). The EOS id comes from <c>tokenizer_config.json</c> <c>eos_token</c>, then
/// <c>config.json</c> <c>eos_token_id</c>, then the usual names.
/// </summary>
public static partial class TokenizerLoader
{
    static readonly string[] UsualEosNames = ["<|endoftext|>", "</s>", "<|end_of_text|>", "<|eot_id|>"];

    /// <summary>Llama 3's split pattern, used for tiktoken files (which carry no pattern of their own).</summary>
    const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|" +
                                 @" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [GeneratedRegex(@"^[A-Za-z0-9+/]+={0,2} \d+$")]
    private static partial Regex TiktokenLine();

    /// <summary>The files a tokenizer folder may hold, as HuggingFace's <c>save_pretrained</c> writes them.</summary>
    public static readonly string[] Files = ["tokenizer.json", "tokenizer_config.json", "tokenizer.model",
        "special_tokens_map.json"];

    /// <summary>
    /// Copies the tokenizer files present in <paramref name="fromDirectory"/> into <paramref name="toDirectory"/>.
    /// </summary>
    public static void CopyFiles(string fromDirectory, string toDirectory)
    {
        Directory.CreateDirectory(toDirectory);
        foreach (var name in Files)
        {
            string source = Path.Combine(fromDirectory, name);
            if (File.Exists(source)) File.Copy(source, Path.Combine(toDirectory, name), overwrite: true);
        }
    }

    /// <summary>
    /// Where a model's tokenizer is: <paramref name="tokenizerDir"/> when given, else the model folder, whose absence
    /// is then reported as the model's (not as a missing tokenizer folder).
    /// </summary>
    public static string FolderFor(string? tokenizerDir, string modelDir) =>
        tokenizerDir ?? (Directory.Exists(modelDir)
            ? modelDir
            : throw new InvalidDataException($"{modelDir}: model folder not found"));

    public static LoadedTokenizer Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new InvalidDataException($"{directory}: tokenizer directory not found");
        string json = Path.Combine(directory, "tokenizer.json");
        string model = Path.Combine(directory, "tokenizer.model");
        if (File.Exists(json)) return LoadTokenizerJson(directory, json);
        if (File.Exists(model))
            return IsTiktoken(model) ? LoadTiktoken(directory, model) : LoadSentencePiece(directory, model);
        throw new InvalidDataException($"{directory}: no tokenizer.json or tokenizer.model");
    }

    static LoadedTokenizer LoadTokenizerJson(string directory, string path)
    {
        JsonElement root;
        try { root = JsonDocument.Parse(File.ReadAllText(path)).RootElement; }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})"); }
        if (!root.TryGetProperty("model", out var model) || model.GetProperty("type").GetString() != "BPE")
            throw new InvalidDataException($"{path}: only BPE models are supported (model.type is not \"BPE\")");
        string pattern = SplitPattern(root, path);

        var vocab = model.GetProperty("vocab")
            .EnumerateObject().Select(p => new KeyValuePair<string, int>(p.Name, p.Value.GetInt32())).ToList();
        var merges = model.GetProperty("merges").EnumerateArray().Select(m => m.ValueKind == JsonValueKind.Array
            ? $"{m[0].GetString()} {m[1].GetString()}"
            : m.GetString()!).ToList();
        var specials = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.TryGetProperty("added_tokens", out var added))
            foreach (var token in added.EnumerateArray())
                specials[token.GetProperty("content").GetString()!] = token.GetProperty("id").GetInt32();

        var tokenizer = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            SpecialTokens = specials,
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), specials),
        });
        var vocabIds = vocab.ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal);
        int eos = ResolveEos(directory,
            name => specials.TryGetValue(name, out int id) || vocabIds.TryGetValue(name, out id) ? id : null);
        return new LoadedTokenizer(tokenizer, eos, "tokenizer.json (byte-level BPE)", [path]);
    }

    /// <summary>The pre-tokenizer regex: a <c>Split</c> entry's pattern, or GPT-2's when a ByteLevel entry has
    /// <c>use_regex</c>. Byte-level is required: other BPE flavours (Metaspace, WordPiece-style) are not read
    /// here.</summary>
    static string SplitPattern(JsonElement root, string path)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException(
                $"{path}: no pre_tokenizer; only byte-level BPE tokenizer.json files are supported");
        var steps = pre.GetProperty("type").GetString() == "Sequence"
            ? pre.GetProperty("pretokenizers").EnumerateArray().ToList()
            : [pre];
        string? pattern = null;
        bool byteLevel = false;
        foreach (var step in steps)
        {
            switch (step.GetProperty("type").GetString())
            {
                case "Split":
                    var p = step.GetProperty("pattern");
                    pattern = p.TryGetProperty("Regex", out var regex) ? regex.GetString()
                        : Regex.Escape(p.GetProperty("String").GetString()!);
                    break;
                case "ByteLevel":
                    byteLevel = true;
                    if (pattern is null && (!step.TryGetProperty("use_regex", out var useRegex) ||
                        useRegex.GetBoolean())) pattern = ByteLevelPreTokenizer.Gpt2Pattern;
                    break;
                case var other:
                    throw new InvalidDataException(
                        $"{path}: pre-tokenizer '{other}' is not supported (byte-level BPE only)");
            }
        }
        if (!byteLevel)
            throw new InvalidDataException(
                $"{path}: pre_tokenizer has no ByteLevel step; only byte-level BPE is supported");
        return pattern ?? throw new InvalidDataException($"{path}: pre_tokenizer has no split pattern");
    }

    static bool IsTiktoken(string path)
    {
        using var reader = new StreamReader(path);
        var buffer = new char[512];
        int read = reader.Read(buffer, 0, buffer.Length);
        string head = new(buffer, 0, read);
        int newline = head.IndexOf('\n');
        return newline > 0 && TiktokenLine().IsMatch(head[..newline].TrimEnd('\r'));
    }

    static LoadedTokenizer LoadTiktoken(string directory, string path)
    {
        var specials = AddedTokensFromConfig(directory);
        using var stream = File.OpenRead(path);
        var tokenizer = TiktokenTokenizer.Create(stream, new RegexPreTokenizer(
            new Regex(Llama3Pattern, RegexOptions.Compiled), specials), normalizer: null, specials);
        int eos = ResolveEos(directory, name => specials.TryGetValue(name, out int id) ? id : null);
        return new LoadedTokenizer(tokenizer, eos, "tiktoken", [path]);
    }

    static LoadedTokenizer LoadSentencePiece(string directory, string path)
    {
        LlamaTokenizer tokenizer;
        using (var stream = File.OpenRead(path))
        {
            try { tokenizer = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false); }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException
                or FormatException or IOException)
            { throw new InvalidDataException($"{path}: not a SentencePiece BPE model or tiktoken file ({e.Message})"); }
        }
        int eos = ResolveEos(directory, name => name == tokenizer.EndOfSentenceToken ? tokenizer.EndOfSentenceId
            : tokenizer.Vocabulary.TryGetValue(name, out int id) ? id : null, fallback: tokenizer.EndOfSentenceId);
        return new LoadedTokenizer(tokenizer, eos, "SentencePiece", [path]);
    }

    /// <summary>
    /// <c>added_tokens_decoder</c> of tokenizer_config.json: the special tokens a tiktoken file leaves out.
    /// </summary>
    static Dictionary<string, int> AddedTokensFromConfig(string directory)
    {
        var specials = new Dictionary<string, int>(StringComparer.Ordinal);
        var config = ReadJson(Path.Combine(directory, "tokenizer_config.json"));
        if (config is { } c && c.TryGetProperty("added_tokens_decoder", out var decoder))
            foreach (var entry in decoder.EnumerateObject())
                specials[entry.Value.GetProperty("content").GetString()!] = int.Parse(entry.Name);
        return specials;
    }

    static int ResolveEos(string directory, Func<string, int?> idOf, int? fallback = null)
    {
        string configPath = Path.Combine(directory, "tokenizer_config.json");
        if (ReadJson(configPath) is { } tokenizerConfig &&
            tokenizerConfig.TryGetProperty("eos_token", out var eosToken) && eosToken.ValueKind != JsonValueKind.Null)
        {
            string name = eosToken.ValueKind == JsonValueKind.Object ? eosToken.GetProperty("content").GetString()!
                : eosToken.GetString()!;
            return idOf(name)
                ?? throw new InvalidDataException($"{configPath}: eos_token '{name}' is not in the vocabulary");
        }
        if (ReadJson(Path.Combine(directory, "config.json")) is { } modelConfig &&
            modelConfig.TryGetProperty("eos_token_id", out var eosId))
        {
            if (eosId.ValueKind == JsonValueKind.Number) return eosId.GetInt32();
            if (eosId.ValueKind == JsonValueKind.Array && eosId.GetArrayLength() > 0) return eosId[0].GetInt32();
        }
        foreach (string name in UsualEosNames)
            if (idOf(name) is int id) return id;
        return fallback ?? throw new InvalidDataException(
            $"{directory}: cannot tell the end-of-sequence token (no eos_token in tokenizer_config.json, " +
            $"no eos_token_id in config.json, none of {string.Join(" ", UsualEosNames)} in the vocabulary)");
    }

    static JsonElement? ReadJson(string path)
    {
        if (!File.Exists(path)) return null;
        try { return JsonDocument.Parse(File.ReadAllText(path)).RootElement; }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})"); }
    }
}
