using MoeLpr.Data;

namespace MoeLpr.Tests.Data;

/// <summary>A 600-token byte-level BPE trained once on the first 20 shipped train pages of each paper language and
/// saved as tokenizer.json, shared by the tokenizer and packing tests.</summary>
internal static class SmallTokenizer
{
    static readonly Lazy<(ByteLevelBpe Bpe, string Dir)> Trained = new(() =>
    {
        var registry = DatasetRegistry.Open(DataTestFiles.DatasetInfo);
        var texts = new[] { "en", "es", "zh", "el", "hu", "tr" }.SelectMany(
            l => registry.Load($"{l}_train", maxSamples: 20).Documents).ToList();
        var bpe = BpeTrainer.Train(texts, vocabSize: 600);
        string dir = DataTestFiles.NewTempDir();
        bpe.Save(dir);
        return (bpe, dir);
    });

    public static ByteLevelBpe Bpe => Trained.Value.Bpe;
    public static string Directory => Trained.Value.Dir;

    /// <summary>Sentences in the four scripts/alphabets the trainer must round-trip, with rare characters.</summary>
    public static readonly string[] Samples =
    [
        "Choose Format - Cells, then click the Numbers tab. It's 3.14159 × 2!",
        "在 LibreOffice 常规帮助页面上，可以找到所有模块的说明。𠀀🙂",
        "Η υπηρεσία Μενού μπορεί να χρησιμοποιηθεί " +
        "για τη δημιουργία μενού.",
        "Biçim - Hücreler'i seçin; ğüşöçİı ve  iki  boşluk\n\tsekme.",
        "ファイルを開くには、メニューから「開く」を選択します。",
    ];
}
