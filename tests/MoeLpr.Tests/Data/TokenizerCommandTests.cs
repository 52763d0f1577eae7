using MoeLpr.Data;
using MoeLpr.Tests.TestSupport;
using MoeLpr.Tests.Training;

namespace MoeLpr.Tests.Data;

/// <summary><c>moelpr tokenizer train</c> and <c>count</c> as a user runs them.</summary>
public class TokenizerCommandTests
{
    [Fact]
    public void TrainWritesATokenizerThatCountsAndSaysWhenTheDataGivesFewerTokens()
    {
        using var ws = new TinyTrainingWorkspace(documents: 12);
        string[] Train(string vocabSize, string output) =>
        [
            "tokenizer", "train", "--dataset", "new_text", "--dataset-info", ws.DatasetInfo,
            "--vocab-size", vocabSize, "--output", output,
        ];

        var small = CliRunner.Run(Train("300", ws.Output("small")));
        Assert.True(small.ExitCode == 0, small.Error);
        Assert.StartsWith("trained 300 tokens (43 merges) in ", small.Output);
        Assert.Equal(299, TokenizerLoader.Load(ws.Output("small")).EosId);
        var count = CliRunner.Run("tokenizer", "count", "--dataset", "new_text", "--dataset-info", ws.DatasetInfo,
            "--tokenizer", ws.Output("small"));
        Assert.True(count.ExitCode == 0, count.Error);
        Assert.Matches(@"^new_text\s+12 docs ", count.Output);

        var huge = CliRunner.Run(Train("100000", ws.Output("huge")));
        Assert.True(huge.ExitCode == 0, huge.Error);
        Assert.Matches(@"^trained (\d+) tokens \(\d+ merges; not the 100000 tokens asked for: no pair of tokens in " +
                       "the data is left that occurs twice\\) in ", huge.Output);
    }
}
