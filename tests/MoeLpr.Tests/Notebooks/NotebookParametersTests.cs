using MoeLpr.Notebooks;

namespace MoeLpr.Tests.Notebooks;

public class NotebookParametersTests
{
    [Fact]
    public void StringValuesConvertToTheRequestedTypeInvariantly()
    {
        var parameters = NotebookParameters.Parse(["steps=50", "lr=0.5", "fast=true", "name=a=b", "steps=60"]);

        Assert.Equal(60, parameters.Get("steps", 200));
        Assert.Equal(0.5, parameters.Get("lr", 1e-3));
        Assert.True(parameters.Get("fast", false));
        Assert.Equal("a=b", parameters.Get("name", ""));
        Assert.Equal(7L, parameters.Get("missing", 7L));
        Assert.True(parameters.Contains("lr"));
        Assert.False(parameters.Contains("missing"));
        Assert.Equal(["steps", "lr", "fast", "name"], parameters.Names);
    }

    [Fact]
    public void TypedValuesPassThroughAndBadValuesNameTheParameter()
    {
        var parameters = new NotebookParameters(new Dictionary<string, object?> { ["layers"] = new[] { 1, 2 }, ["steps"] = 5, ["bad"] = "many" });
        Assert.Equal([1, 2], parameters.Get("layers", Array.Empty<int>()));
        Assert.Equal(5.0, parameters.Get("steps", 0.0));
        var error = Assert.Throws<ArgumentException>(() => parameters.Get("bad", 3));
        Assert.Contains("'bad'", error.Message);
        Assert.Throws<ArgumentException>(() => NotebookParameters.Parse(["novalue"]));
    }
}
