namespace MoeLpr.Tests; public class SmokeTests { [Fact] public void TensorOpRuns() => Assert.Equal(3f, MoeLpr.Smoke.Sum()); }
