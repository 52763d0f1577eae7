using MoeLpr.Evaluation;

namespace MoeLpr.Tests.Evaluation;

public class MultipleChoiceEvaluatorTests
{
    static readonly MultipleChoiceItem[] Items =
    [
        new("abc", ["d", "ee", "fλg"], 0, "en", "en-0"),
        new("hag", ["b", "c", "dd", "λ"], 2, "en", "en-1"),
        new("λλa", ["bb", "a."], 1, "el", "el-0"),
        new("d.", ["hhh", "g", "ab"], 2, "el", "el-1"),
        new("e", ["a", "b"], 0, "el", "el-2"),
    ];

    [Fact]
    public void TheBigramModelReproducesItsTable()
    {
        var bigram = new BigramModel(BigramModel.RandomTable(1));
        Assert.Equal([1, 0, 2], bigram.Tokenizer.EncodeToIds("a b"));
        Assert.Equal(Math.Log(1.0 / BigramModel.VocabSize),
            new BigramModel(new double[BigramModel.VocabSize, BigramModel.VocabSize]).LogLikelihood("a", "b"), 12);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(16)]
    public void LogLikelihoodSumsMatchTheLogitsWhateverTheBatching(int batchSize)
    {
        var bigram = new BigramModel(BigramModel.RandomTable(7));
        var pairs = Items.SelectMany(i => i.Choices.Select(c => (i.Context, Continuation: " " + c))).ToList();
        var requests = pairs.Select(
            p => HarnessPrompt.EncodePair(bigram.Tokenizer, p.Context, p.Continuation, endOfTextId: 0)).ToList();

        var scores = ContinuationScorer.Score(bigram.Model, requests, batchSize);

        for (int i = 0; i < pairs.Count; i++)
            Assert.Equal(bigram.LogLikelihood(pairs[i].Context, pairs[i].Continuation), scores[i], 4);
    }

    [Fact]
    public void LeftTruncationKeepsTheContinuationAndItsPredecessor()
    {
        var bigram = new BigramModel(BigramModel.RandomTable(3));
        (int[], int[]) request = ([1, 2, 3, 4, 5, 6, 7, 8], [3, 9, 2]);
        var truncated = ContinuationScorer.Score(bigram.Model, [request], maxLength: 4);
        var full = ContinuationScorer.Score(bigram.Model, [request]);
        Assert.Equal(bigram.LogLikelihood("abcdefgh", "cib"), truncated[0], 4);
        Assert.Equal(full[0], truncated[0], 5);
    }

    [Fact]
    public void PredictionsAndAccuraciesFollowTheDirectLogLikelihoods()
    {
        var bigram = new BigramModel(BigramModel.RandomTable(11));
        var result = MultipleChoiceEvaluator.Evaluate(bigram.Model, bigram.Tokenizer, 0, Items,
            new MultipleChoiceOptions(BatchSize: 4));

        var correct = new Dictionary<string, (int Acc, int Norm, int Bytes, int Count)>();
        foreach (var (item, score) in Items.Zip(result.Scores))
        {
            var expected = item.Choices.Select(c => bigram.LogLikelihood(item.Context, " " + c)).ToArray();
            for (int c = 0; c < expected.Length; c++) Assert.Equal(expected[c], score.LogLikelihoods[c], 4);
            int acc = ArgMax(expected), norm = ArgMax(expected.Select((v, c) => v / item.Choices[c].Length).ToArray());
            int bytes = ArgMax(
                expected.Select((v, c) => v / System.Text.Encoding.UTF8.GetByteCount(item.Choices[c])).ToArray());
            Assert.Equal((acc, norm, bytes),
                (score.Prediction, score.NormalizedPrediction, score.ByteNormalizedPrediction));
            var (a, n, b, k) = correct.GetValueOrDefault(item.Language);
            correct[item.Language] = (a + (acc == item.Gold ? 1 : 0), n + (norm == item.Gold ? 1 : 0),
                b + (bytes == item.Gold ? 1 : 0), k + 1);
        }

        var frame = result.PerLanguage();
        Assert.Equal(["en", "el"], frame.Columns["language"].Cast<string>());
        for (int row = 0; row < 2; row++)
        {
            var (a, n, b, k) = correct[(string)frame.Rows[row]["language"]];
            Assert.Equal(k, frame.Rows[row]["items"]);
            Assert.Equal((double)a / k, (double)frame.Rows[row]["acc"]!, 12);
            Assert.Equal((double)n / k, (double)frame.Rows[row]["acc_norm"]!, 12);
            Assert.Equal((double)b / k, (double)frame.Rows[row]["acc_norm_bytes"]!, 12);
        }
    }

    [Fact]
    public void LengthNormalisationCanOverturnTheRawPick()
    {
        // After " ": P(d) high, P(c) lower; after "d": P(d) moderate. "dd" totals less than "c" but more per character.
        var table = new double[BigramModel.VocabSize, BigramModel.VocabSize];
        table[BigramModel.Id(' '), BigramModel.Id('d')] = 3.0;
        table[BigramModel.Id(' '), BigramModel.Id('c')] = 2.5;
        table[BigramModel.Id('d'), BigramModel.Id('d')] = 2.0;
        var bigram = new BigramModel(table);
        var item = new MultipleChoiceItem("ab", ["dd", "c"], 0, "en");

        var score = Assert.Single(MultipleChoiceEvaluator.Evaluate(bigram.Model, bigram.Tokenizer, 0, [item]).Scores);

        Assert.True(score.LogLikelihoods[0] < score.LogLikelihoods[1]);
        Assert.Equal(1, score.Prediction);
        Assert.Equal(0, score.NormalizedPrediction);
    }

    [Fact]
    public void ForcedAnswersScorePerfectAccuracy()
    {
        // Every gold choice starts with 'g', and after a space the table makes 'g' overwhelmingly likely.
        var table = new double[BigramModel.VocabSize, BigramModel.VocabSize];
        table[BigramModel.Id(' '), BigramModel.Id('g')] = 12.0;
        var bigram = new BigramModel(table);
        MultipleChoiceItem[] items =
        [
            new("abc", ["d", "ga", "ee"], 1, "hu"), new("ca", ["g", "b"], 0, "hu"),
            new("e", ["h", "aa", "b", "gλ"], 3, "tr"),
        ];
        var frame = MultipleChoiceEvaluator.Evaluate(bigram.Model, bigram.Tokenizer, 0, items).PerLanguage();
        Assert.All(frame.Columns["acc"].Cast<double>(), acc => Assert.Equal(1.0, acc));
        Assert.All(frame.Columns["acc_norm"].Cast<double>(), acc => Assert.Equal(1.0, acc));
    }

    static int ArgMax(double[] values) => Array.IndexOf(values, values.Max());
}
