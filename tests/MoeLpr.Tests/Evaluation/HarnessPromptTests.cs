using MoeLpr.Evaluation;

namespace MoeLpr.Tests.Evaluation;

public class HarnessPromptTests
{
    static readonly MultipleChoiceItem[] Pool = Enumerable.Range(0, 8)
        .Select(i => new MultipleChoiceItem($"q{i}", [$"a{i}", $"b{i}"], i % 2, i < 6 ? "en" : "tr", $"p{i}"))
        .ToArray();

    [Fact]
    public void FewShotContextJoinsSolvedExamplesWithBlankLines()
    {
        var item = new MultipleChoiceItem("question", ["x", "y"], 0, "en", "t0");
        var examples = new FewShotSampler(Pool, seed: 1234).Sample(item, 3);

        Assert.Equal(3, examples.Count);
        Assert.All(examples, e => Assert.Equal("en", e.Language));
        Assert.Equal(3, examples.Select(e => e.Id).Distinct().Count());
        var expected = string.Concat(examples.Select(e => $"{e.Context} {e.Choices[e.Gold]}\n\n")) + "question";
        Assert.Equal(expected, HarnessPrompt.Context(item, examples));
        Assert.Equal(examples, new FewShotSampler(Pool, seed: 1234).Sample(item, 3));
    }

    [Fact]
    public void TheItemItselfIsNeverItsOwnExampleAndShortPoolsFail()
    {
        var sampler = new FewShotSampler(Pool, seed: 5);
        for (int round = 0; round < 20; round++)
            Assert.DoesNotContain(Pool[6], sampler.Sample(Pool[6], 1));
        Assert.Throws<InvalidDataException>(() => sampler.Sample(Pool[6], 2)); // only one other "tr" example
    }

    [Fact]
    public void TrailingContextWhitespaceMovesToTheContinuation()
    {
        var bigram = new BigramModel(BigramModel.RandomTable(1));
        var (context, continuation) = HarnessPrompt.EncodePair(bigram.Tokenizer, "ab ", " c", endOfTextId: 10);
        Assert.Equal([1, 2], context);
        Assert.Equal([0, 0, 3], continuation);
        var (emptyContext, afterEmpty) = HarnessPrompt.EncodePair(bigram.Tokenizer, "", " c", endOfTextId: 10);
        Assert.Equal([10], emptyContext);
        Assert.Equal([0, 3], afterEmpty);
    }
}
