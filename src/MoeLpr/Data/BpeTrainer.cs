using System.Text;

namespace MoeLpr.Data;

/// <summary>
/// Trains a byte-level BPE vocabulary (Microsoft.ML.Tokenizers 2.0.1 can load BPE models but has no trainer).
/// Classic algorithm over a word-frequency table: split texts with <see cref="ByteLevelPreTokenizer"/>, count each
/// distinct piece once, then repeatedly merge the most frequent adjacent pair. Pair counts are updated incrementally
/// (only the words that contain the merged pair are revisited) and the best pair comes from a max-heap with lazy
/// deletion, so a few-thousand-token vocabulary trains on megabytes of text in seconds.
/// Ties go to the pair with the smaller (left, right) ids, so training is deterministic.
/// </summary>
public static class BpeTrainer
{
    /// <param name="vocabSize">Total size: 256 bytes + merged tokens + <c>&lt;|endoftext|&gt;</c>.</param>
    /// <param name="minPairCount">Pairs seen fewer times than this are never merged (training may stop early).</param>
    public static ByteLevelBpe Train(IEnumerable<string> texts, int vocabSize, int minPairCount = 2)
    {
        if (vocabSize < 257)
            throw new ArgumentOutOfRangeException(nameof(vocabSize),
                "vocabulary needs at least the 256 bytes and <|endoftext|>");
        var (words, counts) = CountWords(texts);

        var pairCounts = new Dictionary<long, long>();
        var wordsWithPair = new Dictionary<long, List<int>>();
        for (int w = 0; w < words.Count; w++) AddPairs(w, words[w], counts[w], pairCounts, wordsWithPair);
        var heap = new PriorityQueue<long, (long Count, long Key)>(Comparer<(long Count, long Key)>.Create(
            (a, b) => a.Count != b.Count ? b.Count.CompareTo(a.Count) : a.Key.CompareTo(b.Key)));
        foreach (var (key, count) in pairCounts) heap.Enqueue(key, (count, key));

        var tokens = Enumerable.Range(0, 256).Select(b => ByteLevelAlphabet.ByteToChar[b].ToString()).ToList();
        var idOf = tokens.Select((t, id) => (t, id)).ToDictionary(p => p.t, p => p.id, StringComparer.Ordinal);
        var merges = new List<(int, int)>();
        var mergedPairs = new HashSet<long>();
        var lastVisit = new int[words.Count];
        Array.Fill(lastVisit, -1);
        while (tokens.Count < vocabSize - 1 && heap.TryDequeue(out long best, out var priority))
        {
            if (!pairCounts.TryGetValue(best, out long current) || current != priority.Count) continue; // stale entry
            if (current < minPairCount) break;
            // reappeared only through a reused token string; its rank already applies
            if (!mergedPairs.Add(best)) continue;
            int left = (int)(best >> 32), right = (int)(best & 0xFFFFFFFF);
            string merged = tokens[left] + tokens[right];
            if (!idOf.TryGetValue(merged, out int result)) { result = idOf[merged] = tokens.Count; tokens.Add(merged); }
            merges.Add((left, right));

            var touched = new HashSet<long>();
            foreach (int w in wordsWithPair[best])
            {
                if (lastVisit[w] == merges.Count) continue;
                lastVisit[w] = merges.Count;
                var replaced = Replace(words[w], left, right, result);
                if (replaced is null) continue;
                RemovePairs(words[w], counts[w], pairCounts, touched);
                words[w] = replaced;
                AddPairs(w, replaced, counts[w], pairCounts, wordsWithPair, touched);
            }
            pairCounts.Remove(best);
            wordsWithPair.Remove(best);
            foreach (long key in touched)
                if (pairCounts.TryGetValue(key, out long count) && count > 0) heap.Enqueue(key, (count, key));
        }
        return new ByteLevelBpe(merges);
    }

    /// <summary>Distinct pre-tokenized pieces as byte-id arrays, with how often each occurs.</summary>
    static (List<int[]> Words, List<long> Counts) CountWords(IEnumerable<string> texts)
    {
        var frequency = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string text in texts)
            foreach (string piece in ByteLevelPreTokenizer.Split(text))
                frequency[piece] = frequency.GetValueOrDefault(piece) + 1;
        var words = new List<int[]>(frequency.Count);
        var counts = new List<long>(frequency.Count);
        foreach (var (piece, count) in frequency.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            words.Add(Encoding.UTF8.GetBytes(piece).Select(b => (int)b).ToArray());
            counts.Add(count);
        }
        return (words, counts);
    }

    static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    static void AddPairs(int word, int[] symbols, long count, Dictionary<long, long> pairCounts,
        Dictionary<long, List<int>> wordsWithPair, HashSet<long>? touched = null)
    {
        for (int i = 0; i + 1 < symbols.Length; i++)
        {
            long key = Key(symbols[i], symbols[i + 1]);
            pairCounts[key] = pairCounts.GetValueOrDefault(key) + count;
            if (!wordsWithPair.TryGetValue(key, out var list)) wordsWithPair[key] = list = [];
            if (list.Count == 0 || list[^1] != word) list.Add(word);
            touched?.Add(key);
        }
    }

    static void RemovePairs(int[] symbols, long count, Dictionary<long, long> pairCounts, HashSet<long> touched)
    {
        for (int i = 0; i + 1 < symbols.Length; i++)
        {
            long key = Key(symbols[i], symbols[i + 1]);
            pairCounts[key] -= count;
            touched.Add(key);
        }
    }

    /// <summary>The word with every (left, right) occurrence merged left to right, or null when it has none.</summary>
    static int[]? Replace(int[] symbols, int left, int right, int result)
    {
        List<int>? merged = null;
        for (int i = 0; i < symbols.Length; i++)
        {
            if (i + 1 < symbols.Length && symbols[i] == left && symbols[i + 1] == right)
            {
                merged ??= new List<int>(symbols[..i]);
                merged.Add(result);
                i++;
            }
            else merged?.Add(symbols[i]);
        }
        return merged?.ToArray();
    }
}
