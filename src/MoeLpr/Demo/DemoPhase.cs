namespace MoeLpr.Demo;

/// <summary>One timed step of the demo (data, evaluation of base, each training run, report).</summary>
public sealed record DemoPhase(string Name, TimeSpan WallTime);
