using MoeLpr.Tests.TestSupport;
using System.Buffers.Binary;
using System.IO.Compression;
using MoeLpr.Reporting;

namespace MoeLpr.Tests.Reporting;

public class PngImageTests
{
    [Theory]
    [InlineData(2, 3)] // RGB
    [InlineData(6, 4)] // RGBA
    public void DecodesEveryFilterType(int colorType, int channels)
    {
        const int width = 7, height = 10;
        var random = new Random(3);
        var pixels = new byte[width * height * channels];
        random.NextBytes(pixels);

        var image = PngImage.Decode(Encode(width, height, colorType, channels, pixels));

        Assert.Equal((width, height), (image.Width, image.Height));
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            var i = (y * width + x) * channels;
            var expected = (pixels[i], pixels[i + 1], pixels[i + 2], channels == 4 ? pixels[i + 3] : (byte)255);
            Assert.Equal(expected, image[x, y]);
        }
    }

    [Fact]
    public void RejectsWhatIsNotAPng()
    {
        Assert.Throws<InvalidDataException>(() => PngImage.Decode("GIF89a..."u8));
        var path = Path.GetTempFileName();
        File.WriteAllBytes(path, [137, 80, 78, 71, 13, 10, 26, 10]);
        var error = Assert.Throws<InvalidDataException>(() => PngImage.Load(path));
        Assert.StartsWith(path, error.Message);
    }

    // A PNG encoder that cycles rows through filters 0..4 (None, Sub, Up, Average, Paeth), the forward transforms of the spec.
    static byte[] Encode(int width, int height, int colorType, int bpp, byte[] pixels)
    {
        var stride = width * bpp;
        var filtered = new MemoryStream();
        for (var y = 0; y < height; y++)
        {
            var filter = y % 5;
            filtered.WriteByte((byte)filter);
            for (var i = 0; i < stride; i++)
            {
                int x = pixels[y * stride + i], a = i >= bpp ? pixels[y * stride + i - bpp] : 0, b = y > 0 ? pixels[(y - 1) * stride + i] : 0,
                    c = i >= bpp && y > 0 ? pixels[(y - 1) * stride + i - bpp] : 0;
                int predictor = filter switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) / 2, _ => Paeth(a, b, c) };
                filtered.WriteByte((byte)(x - predictor));
            }
        }
        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(filtered.ToArray());

        var png = new MemoryStream();
        png.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        (header[8], header[9]) = (8, (byte)colorType);
        WriteChunk(png, "IHDR", header);
        var data = compressed.ToArray();
        WriteChunk(png, "IDAT", data[..(data.Length / 2)]); // split image data across two chunks
        WriteChunk(png, "IDAT", data[(data.Length / 2)..]);
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    static void WriteChunk(Stream png, string type, byte[] data)
    {
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(four, data.Length);
        png.Write(four);
        png.Write(typeBytes);
        png.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(four, Crc32([.. typeBytes, .. data]));
        png.Write(four);
    }

    // CRC-32 (polynomial 0xEDB88320) over chunk type and data, as PNG requires.
    static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
