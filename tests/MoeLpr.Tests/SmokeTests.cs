using static TorchSharp.torch;

namespace MoeLpr.Tests;

public class SmokeTests
{
    /// <summary>Proves libtorch loads from the build output (the GLIBCXX compatibility step worked).</summary>
    [Fact]
    public void TensorOpRuns()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var product = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, product.data<float>().ToArray());
    }
}
