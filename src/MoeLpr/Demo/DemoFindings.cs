namespace MoeLpr.Demo;

/// <summary>
/// The paper's ordering, checked on the demo's numbers (computed, never asserted): on old languages MoE-LPR stays
/// close to the base and beats full fine-tuning and stage 1 alone; on new languages MoE-LPR is at least as good as
/// stage 1 and far better than the base.
/// </summary>
internal static class DemoFindings
{
    public sealed record Check(string Claim, bool Holds, string Evidence);

    public static IReadOnlyList<Check> Evaluate(DemoResult result)
    {
        double Old(string key) => result[key].AveragePerplexity(DemoLanguages.Old);
        double New(string key) => result[key].AveragePerplexity(DemoLanguages.New);
        double oldGap = Old("moe_lpr") / Old("base") - 1;
        return
        [
            new("Old languages: MoE-LPR stays within 5 % of the base perplexity", oldGap <= 0.05,
                $"old avg {Old("moe_lpr"):0.00} vs base {Old("base"):0.00} ({oldGap * 100:+0.0;-0.0} %)"),
            new("Old languages: MoE-LPR forgets less than full fine-tuning", Old("moe_lpr") < Old("full_ft"),
                $"old avg {Old("moe_lpr"):0.00} vs full FT {Old("full_ft"):0.00}"),
            new("Old languages: MoE-LPR forgets less than stage 1 alone", Old("moe_lpr") < Old("moe_stage1"),
                $"old avg {Old("moe_lpr"):0.00} vs stage 1 {Old("moe_stage1"):0.00}"),
            new("New languages: MoE-LPR is at least as good as stage 1 alone", New("moe_lpr") <= New("moe_stage1"),
                $"new avg {New("moe_lpr"):0.00} vs stage 1 {New("moe_stage1"):0.00}"),
            new("New languages: MoE-LPR is far better than the base (at most half its perplexity)",
                New("moe_lpr") <= 0.5 * New("base"), $"new avg {New("moe_lpr"):0.00} vs base {New("base"):0.00}"),
        ];
    }
}
