using MoeLpr.Data;
using MoeLpr.Model;

namespace MoeLpr.Evaluation;

/// <summary>The routing trace of a text given as a string: tokenise (no BOS, as training does), name the tokens
/// with <see cref="TokenPieces"/>, trace with <see cref="TokenRoutingTrace"/>.</summary>
public static class TextRouting
{
    public static TokenRoutingTrace Trace(LlamaForCausalLM model, LoadedTokenizer tokenizer, string text)
    {
        var ids = tokenizer.Encode(text);
        return TokenRoutingTrace.Trace(model, ids, TokenPieces.Of(tokenizer, ids));
    }
}
