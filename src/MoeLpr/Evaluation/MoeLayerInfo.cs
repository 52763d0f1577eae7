namespace MoeLpr.Evaluation;

/// <summary>One MoE layer of a model: its decoder-layer index, expert count N and top-K.</summary>
public sealed record MoeLayerInfo(int Layer, int NumExperts, int TopK);
