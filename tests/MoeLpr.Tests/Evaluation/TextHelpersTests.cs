using MoeLpr.Data;
using MoeLpr.Evaluation;
using MoeLpr.Model;
using MoeLpr.Notebooks;
using MoeLpr.Tests.Model;
using MoeLpr.Upcycling;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeLpr.Tests.Evaluation;

/// <summary>
/// The one-call helpers the notebooks use on single texts: scoring, greedy decoding, token pieces, routing traces.
/// </summary>
public class TextHelpersTests
{
    static readonly LoadedTokenizer Tokenizer = TokenizerLoader.Load(KitDirectory.Path("data/tokenizer"));

    static LlamaForCausalLM TinyModel(long seed) => TinyModels.Create(TinyModels.Llama with { VocabSize = 8000 }, seed);

    [Fact]
    public void ScoreIsTheMeanNllOfEveryTokenGivenEosThenThePrefix()
    {
        using var model = TinyModel(1);
        const string text = "Returns the octal value of a number.";

        var score = TextScorer.Score(model, Tokenizer, text);

        // Independent recomputation: log-softmax at each position, gather the next id.
        var ids = new[] { Tokenizer.EosId }.Concat(Tokenizer.Encode(text)).ToArray();
        using var _ = torch.no_grad();
        var logits = model.forward(
            new CausalLMInput(torch.tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length]))).Logits;
        var logProbabilities = logits[0].log_softmax(-1).to_type(ScalarType.Float64).data<double>().ToArray();
        double nll = 0;
        for (int t = 1; t < ids.Length; t++) nll -= logProbabilities[(t - 1) * 8000 + ids[t]];
        Assert.Equal(ids.Length - 1, score.Tokens);
        Assert.Equal(nll / (ids.Length - 1), score.MeanNll, 5);
        Assert.Equal(Math.Exp(score.MeanNll), score.Perplexity, 6);
        Assert.Throws<ArgumentException>(() => TextScorer.Score(model, Tokenizer, ""));
    }

    [Fact]
    public void ScoringRestoresTrainingMode()
    {
        using var model = TinyModel(2);
        model.train();
        TextScorer.Score(model, Tokenizer, "abc");
        Assert.True(model.training);
    }

    [Fact]
    public void GreedyTokensAreTheArgmaxOfTheFinalSequenceAtEachPosition()
    {
        using var model = TinyModel(3);
        int[] context = [Tokenizer.EosId, .. Tokenizer.Encode("Click the")];

        var generated = GreedyDecoder.NextTokens(model, context, 6);

        Assert.Equal(6, generated.Count);
        // The model is causal, so one forward pass of the whole sequence shows what each step saw.
        var sequence = context.Concat(generated).Select(i => (long)i).ToArray();
        using var _ = torch.no_grad();
        var argmax = model.forward(new CausalLMInput(torch.tensor(sequence, [1, sequence.Length]))).Logits[0]
            .argmax(-1).data<long>().ToArray();
        for (int k = 0; k < generated.Count; k++)
            Assert.Equal(generated[k], (int)argmax[context.Length - 1 + k]);
    }

    [Fact]
    public void GreedyDecodingStopsAtTheStopToken()
    {
        using var model = TinyModel(3);
        int[] context = [Tokenizer.EosId, .. Tokenizer.Encode("Click the")];
        var free = GreedyDecoder.NextTokens(model, context, 6);

        var stopped = GreedyDecoder.NextTokens(model, context, 6, stopId: free[2]);

        Assert.Equal(free.TakeWhile(id => id != free[2]), stopped);
        Assert.Empty(GreedyDecoder.NextTokens(model, context, 0));
        Assert.Equal(Tokenizer.Decode(free.Take(4)), GreedyDecoder.Generate(model, Tokenizer, "Click the", 4));
    }

    [Theory]
    [InlineData("Returns the octal value of a number.")]
    [InlineData("返回数字的八进制值。")]
    [InlineData("Επιστρέφει την οκταδική τιμή ενός αριθμού.")]
    [InlineData("Bir sayının sekizlik değerini döndürür.")]
    public void PiecesConcatenateToTheTextWithoutBrokenCharacters(string text)
    {
        var ids = Tokenizer.Encode(text);

        var pieces = TokenPieces.Of(Tokenizer, ids);

        Assert.Equal(ids.Count, pieces.Length);
        Assert.Equal(text, string.Concat(pieces));
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
    }

    [Fact]
    public void TextRoutingTracesEveryTokenOfTheText()
    {
        using var model = TinyModel(4);
        Upcycler.Upcycle(model, new MoeConfig { NumExperts = 4, TopK = 2 }, seed: 0);
        const string text = "Επιστρέφει την τιμή.";

        var trace = TextRouting.Trace(model, Tokenizer, text);

        Assert.Equal(text, string.Concat(trace.Tokens));
        Assert.Equal(Tokenizer.Encode(text).Count, trace.Tokens.Length);
        Assert.Equal([0, 1], trace.Layers);
        Assert.All(trace.Experts, layer => Assert.All(layer, token => Assert.Equal(2, token.Length)));
    }
}
