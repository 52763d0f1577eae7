namespace MoeLpr.Training;

/// <summary>
/// The seeded order in which an epoch visits the packed blocks (the reference shuffles packed blocks too). Each
/// epoch's permutation is a pure function of (seed, epoch), so a resumed run needs only those two numbers to
/// continue with the very same order — there is no hidden RNG state to save.
/// </summary>
public static class BlockOrder
{
    public static int[] ForEpoch(long seed, int epoch, int blockCount)
    {
        var order = Enumerable.Range(0, blockCount).ToArray();
        // System.Random with an explicit seed uses a fixed algorithm, stable across runs, platforms and .NET versions.
        var random = new Random(unchecked((int)(seed * 1_000_003 + epoch)));
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
