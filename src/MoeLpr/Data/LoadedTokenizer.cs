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
