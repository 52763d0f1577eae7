using MoeLpr.Data;

namespace MoeLpr.Tests.Data;

public class BpeTrainerTests
{
    [Fact]
    public void TrainsToTheRequestedVocabularyWithEndOfTextLast()
    {
        var bpe = SmallTokenizer.Bpe;
        Assert.Equal(600, bpe.VocabSize);
        Assert.Equal(599, bpe.EndOfTextId);
        Assert.Equal(ByteLevelBpe.EndOfText, bpe.Tokens[^1]);
        Assert.Equal(bpe.Tokens.Count, bpe.Tokens.Distinct().Count());
    }

    [Fact]
    public void RoundTripsEnglishChineseGreekTurkishAndJapanese()
    {
        foreach (string text in SmallTokenizer.Samples)
            Assert.Equal(text, SmallTokenizer.Bpe.Decode(SmallTokenizer.Bpe.Encode(text)));
    }

    [Fact]
    public void MergesCompressTrainingLanguages()
    {
        var bpe = SmallTokenizer.Bpe;
        foreach (string text in SmallTokenizer.Samples.Take(4))
            Assert.True(bpe.Encode(text).Length < System.Text.Encoding.UTF8.GetByteCount(text) * 0.8, text);
    }

    [Fact]
    public void EndOfTextInTextBecomesTheSpecialToken()
    {
        var bpe = SmallTokenizer.Bpe;
        int[] ids = bpe.Encode("one<|endoftext|>two");
        Assert.Single(ids, bpe.EndOfTextId);
        Assert.Equal("one<|endoftext|>two", bpe.Decode(ids));
    }

    [Fact]
    public void TrainingIsDeterministicAndLearnsTheMostFrequentPairFirst()
    {
        string[] texts = ["ab ab ab", "aab xy"];
        var first = BpeTrainer.Train(texts, vocabSize: 262);
        Assert.Equal(first.Merges, BpeTrainer.Train(texts, vocabSize: 262).Merges);
        // Pieces "ab", " ab", " ab", "aab", " xy": "ab" occurs 4 times, " a" twice, every other pair once.
        Assert.Equal(('a', 'b'), ((char)first.Merges[0].Left, (char)first.Merges[0].Right));
        Assert.Equal("ab", first.Tokens[first.MergeResults[0]]);
    }

    [Fact]
    public void StopsEarlyWhenNoPairRepeats()
    {
        var bpe = BpeTrainer.Train(["abcdef"], vocabSize: 1000);
        Assert.Empty(bpe.Merges);
        Assert.Equal(257, bpe.VocabSize);
    }

    [Fact]
    public void PreTokenizerCoversTheTextAndSeparatesScripts()
    {
        foreach (string text in SmallTokenizer.Samples)
            Assert.Equal(text, string.Concat(ByteLevelPreTokenizer.Split(text)));
        Assert.Equal(["ファイル", "を", "開", "くには", "、", "LibreOffice", "の", "設定"],
            ByteLevelPreTokenizer.Split("ファイルを開くには、LibreOfficeの設定"));
    }

    [Fact]
    public void TooSmallVocabularyIsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BpeTrainer.Train(["x"], vocabSize: 256));
    }
}
