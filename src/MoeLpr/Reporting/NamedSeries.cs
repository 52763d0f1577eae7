namespace MoeLpr.Reporting;

/// <summary>One labelled row of values for a grouped chart, e.g. ("stage 2", expert-0 share per language).</summary>
public sealed record NamedSeries(string Name, IReadOnlyList<double> Values);
