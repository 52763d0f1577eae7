using MoeLpr.Notebooks;

namespace MoeLpr.Tests.Notebooks;

[Collection("notebook runs")] // sets process environment variables
public class NotebookParametersTests
{
    [Fact]
    public void EnvironmentVariablesOverrideDefaultsWithInvariantParsing()
    {
        using var _ = new Variables(new() { ["MOELPR_NB_STEPS"] = "50", ["MOELPR_NB_LEARNING_RATE"] = "0.5",
            ["MOELPR_NB_FAST"] = "true", ["MOELPR_NB_NAME"] = "a=b" });

        Assert.Equal(50, NotebookParameters.Get("steps", 200));
        Assert.Equal(0.5, NotebookParameters.Get("learning_rate", 1e-3));
        Assert.True(NotebookParameters.Get("fast", false));
        Assert.Equal("a=b", NotebookParameters.Get("name", ""));
        Assert.Equal(50, NotebookParameters.Get<int?>("steps", null));
        Assert.Equal(7L, NotebookParameters.Get("missing", 7L));
        Assert.Null(NotebookParameters.Get<int?>("missing", null));
    }

    [Fact]
    public void ABadValueNamesTheParameterAndItsVariable()
    {
        using var _ = new Variables(new() { ["MOELPR_NB_STEPS"] = "many" });
        var error = Assert.Throws<ArgumentException>(() => NotebookParameters.Get("steps", 3));
        Assert.Equal("notebook parameter 'steps' (MOELPR_NB_STEPS=many) is not a valid Int32", error.Message);
    }

    [Fact]
    public void AssignmentsBecomeTheirVariables()
    {
        Assert.Equal(new Dictionary<string, string> { ["MOELPR_NB_STEPS"] = "60", ["MOELPR_NB_NAME"] = "a=b" },
                     NotebookParameters.ToVariables(["steps=50", "name=a=b", "steps=60"]));
        Assert.Equal("parameter 'novalue' is not of the form key=value",
                     Assert.Throws<ArgumentException>(() => NotebookParameters.ToVariables(["novalue"])).Message);
    }

    [Fact]
    public void NamesReadAreTheLiteralNamesOfGetCalls()
    {
        const string Code = """
            var steps = NotebookParameters.Get("stage1_steps", 300);
            var rate = NotebookParameters.Get<double>( "lr", 1e-3);
            var other = Parameters.Get("not_ours", 1);
            var name = "seed";
            var seed = NotebookParameters.Get(name, 0L);
            """;
        Assert.Equal(["stage1_steps", "lr"], NotebookParameters.NamesReadIn(Code));
    }

    sealed class Variables : IDisposable
    {
        readonly Dictionary<string, string> _values;

        public Variables(Dictionary<string, string> values)
        {
            _values = values;
            foreach (var (name, value) in values) Environment.SetEnvironmentVariable(name, value);
        }

        public void Dispose()
        {
            foreach (var name in _values.Keys) Environment.SetEnvironmentVariable(name, null);
        }
    }
}
