using MoeLpr.Evaluation;

namespace MoeLpr.Tests.Evaluation;

public class MultipleChoiceTaskFileTests
{
    [Fact]
    public void ItemsRoundTripWithReadableUnicode()
    {
        var path = Path.Combine(Path.GetTempPath(), $"moelpr-task-{Guid.NewGuid():N}.jsonl");
        try
        {
            MultipleChoiceItem[] items = [new("Γεια \"σου\"", ["α", "β"], 1, "el", "el-0"),
                new("hi", ["x", "y", "z"], 2, "en")];
            MultipleChoiceTaskFile.Save(path, items);
            Assert.Contains("Γεια", File.ReadAllText(path));
            var loaded = MultipleChoiceTaskFile.Load(path);
            Assert.Equal(2, loaded.Count);
            Assert.Equal(items[0].Context, loaded[0].Context);
            Assert.Equal(items[0].Choices, loaded[0].Choices);
            Assert.Equal((1, "el", "el-0"), (loaded[0].Gold, loaded[0].Language, loaded[0].Id));
            Assert.Null(loaded[1].Id);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("{\"context\":\"c\",\"choices\":[\"a\",\"b\"],\"gold\":2,\"language\":\"en\"}",
        "gold 2 is outside 0..1")]
    [InlineData("{\"context\":\"c\",\"choices\":[\"a\",\"b\"],\"gold\":\"1\",\"language\":\"en\"}",
        "\"gold\" must be an integer index into \"choices\"")]
    [InlineData("{\"context\":\"c\",\"choices\":[\"a\"],\"gold\":0,\"language\":\"en\"}", "at least 2 choices")]
    [InlineData("{\"context\":\"c\",\"choices\":[\"a\",\"b\"],\"gold\":0}", "\"language\"")]
    [InlineData("{\"context\":\"c\",\"choices\":[\"a\",3],\"gold\":0,\"language\":\"en\"}",
        "every choice must be a string")]
    [InlineData("{not json", "malformed JSON")]
    public void BadLinesNameTheFileAndLine(string badLine, string problem)
    {
        var path = Path.Combine(Path.GetTempPath(), $"moelpr-task-{Guid.NewGuid():N}.jsonl");
        try
        {
            File.WriteAllLines(path,
                ["{\"context\":\"ok\",\"choices\":[\"a\",\"b\"],\"gold\":0,\"language\":\"en\"}", badLine]);
            var error = Assert.Throws<InvalidDataException>(() => MultipleChoiceTaskFile.Load(path));
            Assert.StartsWith($"{path}:2: ", error.Message);
            Assert.Contains(problem, error.Message);
        }
        finally { File.Delete(path); }
    }
}
