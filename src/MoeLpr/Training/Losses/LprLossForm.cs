namespace MoeLpr.Training.Losses;

/// <summary>Which language-prior routing loss to use for old-language tokens.</summary>
public enum LprLossForm
{
    /// <summary>The paper's cross-entropy of the router distribution against expert 0: −log p_0.</summary>
    Nll,
    /// <summary>The released code's form: CrossEntropy on the probabilities again, −p_0 + log Σ_e exp(p_e).</summary>
    Reference,
}
