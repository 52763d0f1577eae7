using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MoeLpr.Data;

/// <summary>
/// A byte-level BPE vocabulary as <see cref="BpeTrainer"/> makes it: ids 0–255 are the bytes, then one id per merged
/// string in merge order, then the special tokens. It encodes by itself (GPT-2's rank-ordered merging, the reference
/// behaviour the loaded Microsoft.ML.Tokenizers tokenizer must reproduce) and saves as HF <c>tokenizer.json</c>.
/// </summary>
public sealed class ByteLevelBpe
{
    public const string EndOfText = "<|endoftext|>";

    /// <summary>
    /// Token strings in byte-level characters (<see cref="ByteLevelAlphabet"/>), indexed by id; specials last.
    /// </summary>
    public IReadOnlyList<string> Tokens { get; }
    /// <summary>Merges in rank order, as the ids of the two merged tokens.</summary>
    public IReadOnlyList<(int Left, int Right)> Merges { get; }
    /// <summary>The token each merge produces: a new id, or an existing one when two merges spell the same string
    /// (e.g. a+bc and ab+c), as HF's trainer does.</summary>
    public IReadOnlyList<int> MergeResults { get; }
    public int EndOfTextId { get; }

    readonly Dictionary<(int, int), int> rankOf = new();
    readonly Dictionary<string, int[]> cache = new(StringComparer.Ordinal);

    public ByteLevelBpe(IReadOnlyList<(int Left, int Right)> merges)
    {
        var tokens = Enumerable.Range(0, 256).Select(b => ByteLevelAlphabet.ByteToChar[b].ToString()).ToList();
        var idOf = tokens.Select((t, id) => (t, id)).ToDictionary(p => p.t, p => p.id, StringComparer.Ordinal);
        var results = new int[merges.Count];
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (left >= tokens.Count || right >= tokens.Count)
                throw new ArgumentException($"merge {rank} uses a token that does not exist yet");
            string merged = tokens[left] + tokens[right];
            if (!idOf.TryGetValue(merged, out results[rank]))
            {
                results[rank] = idOf[merged] = tokens.Count;
                tokens.Add(merged);
            }
            rankOf[(left, right)] = rank;
        }
        EndOfTextId = tokens.Count;
        tokens.Add(EndOfText);
        Tokens = tokens;
        Merges = merges;
        MergeResults = results;
    }

    public int VocabSize => Tokens.Count;

    public int[] Encode(string text)
    {
        var ids = new List<int>();
        int start = 0;
        for (int at = text.IndexOf(EndOfText, StringComparison.Ordinal); at >= 0;
            at = text.IndexOf(EndOfText, start, StringComparison.Ordinal))
        {
            EncodeOrdinary(text[start..at], ids);
            ids.Add(EndOfTextId);
            start = at + EndOfText.Length;
        }
        EncodeOrdinary(text[start..], ids);
        return ids.ToArray();
    }

    void EncodeOrdinary(string text, List<int> ids)
    {
        foreach (string piece in ByteLevelPreTokenizer.Split(text))
        {
            if (!cache.TryGetValue(piece, out var pieceIds))
                cache[piece] = pieceIds = MergeWord(Encoding.UTF8.GetBytes(piece).Select(b => (int)b).ToList());
            ids.AddRange(pieceIds);
        }
    }

    /// <summary>Repeatedly merges the adjacent pair with the lowest rank (every occurrence, left to right).</summary>
    int[] MergeWord(List<int> symbols)
    {
        while (symbols.Count > 1)
        {
            int bestRank = int.MaxValue;
            for (int i = 0; i + 1 < symbols.Count; i++)
                if (rankOf.TryGetValue((symbols[i], symbols[i + 1]), out int rank) && rank < bestRank) bestRank = rank;
            if (bestRank == int.MaxValue) break;
            var (left, right) = Merges[bestRank];
            var merged = new List<int>(symbols.Count);
            for (int i = 0; i < symbols.Count; i++)
            {
                if (i + 1 < symbols.Count && symbols[i] == left && symbols[i + 1] == right)
                {
                    merged.Add(MergeResults[bestRank]);
                    i++;
                }
                else merged.Add(symbols[i]);
            }
            symbols = merged;
        }
        return symbols.ToArray();
    }

    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
            bytes.AddRange(
                id == EndOfTextId ? Encoding.UTF8.GetBytes(EndOfText) : ByteLevelAlphabet.Decode(Tokens[id]));
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Writes HF <c>tokenizer.json</c> (BPE model, Split + ByteLevel pre-tokenizer, ByteLevel decoder) and
    /// <c>tokenizer_config.json</c> naming the EOS (= pad) token, as Qwen-style base models do.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var vocab = new JsonObject();
        for (int id = 0; id < EndOfTextId; id++) vocab[Tokens[id]] = id;
        var byteLevel = new JsonObject
        {
            ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false,
        };
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(new JsonObject
            {
                ["id"] = EndOfTextId, ["content"] = EndOfText, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = ByteLevelPreTokenizer.Pattern },
                        ["behavior"] = "Isolated", ["invert"] = false,
                    }, byteLevel.DeepClone()),
            },
            ["post_processor"] = null,
            ["decoder"] = byteLevel.DeepClone(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false,
                ["ignore_merges"] = false, ["vocab"] = vocab,
                ["merges"] = new JsonArray(
                    Merges.Select(m => (JsonNode)JsonValue.Create($"{Tokens[m.Left]} {Tokens[m.Right]}")!).ToArray()),
            },
        };
        var config = new JsonObject
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
            ["eos_token"] = EndOfText,
            ["pad_token"] = EndOfText,
            ["bos_token"] = null,
            ["add_bos_token"] = false,
            ["model_max_length"] = 1_000_000,
        };
        var options = new JsonSerializerOptions
        {
            WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), tokenizer.ToJsonString(options) + "\n");
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config.ToJsonString(options) + "\n");
    }
}
