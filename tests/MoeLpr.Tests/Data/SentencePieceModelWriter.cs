using System.Text;

namespace MoeLpr.Tests.Data;

/// <summary>Writes a minimal SentencePiece BPE <c>tokenizer.model</c> (the ModelProto protobuf of
/// google/sentencepiece's sentencepiece_model.proto) by hand, so the SentencePiece path is tested without a download:
/// &lt;unk&gt; &lt;s&gt; &lt;/s&gt; at ids 0–2, then the given pieces (higher score = merged first).</summary>
internal static class SentencePieceModelWriter
{
    public static void Write(string path, IReadOnlyList<(string Piece, float Score)> pieces)
    {
        var model = new MemoryStream();
        WritePiece(model, "<unk>", 0, type: 2);
        WritePiece(model, "<s>", 0, type: 3);
        WritePiece(model, "</s>", 0, type: 3);
        foreach (var (piece, score) in pieces) WritePiece(model, piece, score, type: 1);
        var trainerSpec = new MemoryStream();
        Varint(trainerSpec, (3 << 3) | 0); Varint(trainerSpec, 2);                 // model_type = BPE
        var normalizerSpec = new MemoryStream();
        Bytes(normalizerSpec, 1, Encoding.UTF8.GetBytes("identity"));              // name
        Bytes(model, 2, trainerSpec.ToArray());
        Bytes(model, 3, normalizerSpec.ToArray());
        File.WriteAllBytes(path, model.ToArray());
    }

    static void WritePiece(Stream model, string piece, float score, int type)
    {
        var message = new MemoryStream();
        Bytes(message, 1, Encoding.UTF8.GetBytes(piece));
        Varint(message, (2 << 3) | 5); message.Write(BitConverter.GetBytes(score));  // fixed32 float, little-endian
        Varint(message, (3 << 3) | 0); Varint(message, (ulong)type);
        Bytes(model, 1, message.ToArray());
    }

    static void Bytes(Stream stream, int field, byte[] payload)
    {
        Varint(stream, (ulong)((field << 3) | 2));
        Varint(stream, (ulong)payload.Length);
        stream.Write(payload);
    }

    static void Varint(Stream stream, ulong value)
    {
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            stream.WriteByte(value == 0 ? b : (byte)(b | 0x80));
        } while (value != 0);
    }
}
