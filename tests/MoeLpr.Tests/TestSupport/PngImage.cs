using MoeLpr.Tests.TestSupport;
using System.Buffers.Binary;
using System.IO.Compression;

namespace MoeLpr.Tests.TestSupport;

/// <summary>
/// A decoded PNG as 8-bit RGBA pixels, enough to check screenshots (e.g. that a chart drew something) without an
/// imaging library: non-interlaced, bit depth 8, colour types grey, grey+alpha, RGB, RGBA and palette.
/// </summary>
public sealed class PngImage
{
    static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    readonly byte[] _rgba;

    PngImage(int width, int height, byte[] rgba) => (Width, Height, _rgba) = (width, height, rgba);

    public int Width { get; }
    public int Height { get; }

    public (byte R, byte G, byte B, byte A) this[int x, int y]
    {
        get
        {
            if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) throw new ArgumentOutOfRangeException(nameof(x), $"({x},{y}) is outside {Width}x{Height}");
            var i = (y * Width + x) * 4;
            return (_rgba[i], _rgba[i + 1], _rgba[i + 2], _rgba[i + 3]);
        }
    }

    public static PngImage Load(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: PNG file not found");
        try { return Decode(File.ReadAllBytes(path)); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}"); }
    }

    public static PngImage Decode(ReadOnlySpan<byte> png)
    {
        if (png.Length < 8 || !png[..8].SequenceEqual(Signature)) throw new InvalidDataException("not a PNG (bad signature)");
        int width = 0, height = 0, colorType = -1;
        byte[]? palette = null, paletteAlpha = null;
        using var idat = new MemoryStream();
        var offset = 8;
        while (offset + 8 <= png.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png[offset..]);
            var type = System.Text.Encoding.ASCII.GetString(png.Slice(offset + 4, 4));
            if (length < 0 || offset + 12 + length > png.Length) throw new InvalidDataException($"truncated {type} chunk");
            var data = png.Slice(offset + 8, length);
            switch (type)
            {
                case "IHDR":
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    int bitDepth = data[8], interlace = data[12];
                    colorType = data[9];
                    if (bitDepth != 8) throw new InvalidDataException($"bit depth {bitDepth} is not supported (only 8)");
                    if (interlace != 0) throw new InvalidDataException("interlaced PNGs are not supported");
                    if (colorType is not (0 or 2 or 3 or 4 or 6)) throw new InvalidDataException($"unknown colour type {colorType}");
                    break;
                case "PLTE": palette = data.ToArray(); break;
                case "tRNS": paletteAlpha = data.ToArray(); break;
                case "IDAT": idat.Write(data); break;
                case "IEND": offset = png.Length; continue;
            }
            offset += 12 + length;
        }
        if (colorType < 0) throw new InvalidDataException("no IHDR chunk");
        if (colorType == 3 && palette is null) throw new InvalidDataException("palette image without PLTE chunk");

        var channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        var stride = width * channels;
        var raw = Unfilter(Inflate(idat.ToArray(), (stride + 1) * height), stride, height, channels);
        var rgba = new byte[width * height * 4];
        for (var p = 0; p < width * height; p++)
        {
            var s = p * channels;
            (byte r, byte g, byte b, byte a) = colorType switch
            {
                0 => (raw[s], raw[s], raw[s], (byte)255),
                4 => (raw[s], raw[s], raw[s], raw[s + 1]),
                2 => (raw[s], raw[s + 1], raw[s + 2], (byte)255),
                6 => (raw[s], raw[s + 1], raw[s + 2], raw[s + 3]),
                _ => PaletteEntry(palette!, paletteAlpha, raw[s]),
            };
            (rgba[p * 4], rgba[p * 4 + 1], rgba[p * 4 + 2], rgba[p * 4 + 3]) = (r, g, b, a);
        }
        return new PngImage(width, height, rgba);
    }

    static byte[] Inflate(byte[] zlib, int expectedLength)
    {
        using var inflater = new ZLibStream(new MemoryStream(zlib), CompressionMode.Decompress);
        var output = new byte[expectedLength];
        var read = 0;
        while (read < expectedLength)
        {
            var n = inflater.Read(output, read, expectedLength - read);
            if (n == 0) throw new InvalidDataException($"image data holds {read} bytes, expected {expectedLength}");
            read += n;
        }
        return output;
    }

    // Reverses the per-scanline filters (PNG spec §9): None, Sub, Up, Average, Paeth; bpp = bytes per pixel.
    static byte[] Unfilter(byte[] filtered, int stride, int height, int bpp)
    {
        var output = new byte[stride * height];
        for (var y = 0; y < height; y++)
        {
            var filter = filtered[y * (stride + 1)];
            var line = filtered.AsSpan(y * (stride + 1) + 1, stride);
            var current = output.AsSpan(y * stride, stride);
            var previous = y > 0 ? output.AsSpan((y - 1) * stride, stride) : new byte[stride];
            for (var i = 0; i < stride; i++)
            {
                int left = i >= bpp ? current[i - bpp] : 0, up = previous[i], upLeft = i >= bpp ? previous[i - bpp] : 0;
                current[i] = (byte)(line[i] + filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => throw new InvalidDataException($"unknown filter type {filter} on row {y}"),
                });
            }
        }
        return output;
    }

    static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    static (byte, byte, byte, byte) PaletteEntry(byte[] palette, byte[]? alpha, byte index)
    {
        if (index * 3 + 2 >= palette.Length) throw new InvalidDataException($"palette index {index} out of range");
        return (palette[index * 3], palette[index * 3 + 1], palette[index * 3 + 2], alpha is not null && index < alpha.Length ? alpha[index] : (byte)255);
    }
}
