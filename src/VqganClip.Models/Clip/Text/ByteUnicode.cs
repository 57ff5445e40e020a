namespace VqganClip.Models.Clip;

/// <summary>
/// GPT-2/CLIP's reversible byte ↔ printable-character map (<c>bytes_to_unicode</c> in
/// clip/simple_tokenizer.py): printable Latin-1 bytes map to themselves, the other 68 bytes to
/// U+0100 upwards in byte order. The vocabulary's first 256 entries are these characters in the
/// reference's order (printable bytes first), so the order matters, not just the mapping.
/// </summary>
internal static class ByteUnicode
{
    /// <summary>The 256 bytes in the reference's order: '!'..'~', '¡'..'¬', '®'..'ÿ', then the rest.</summary>
    public static IReadOnlyList<byte> ReferenceOrder { get; }

    /// <summary>Byte → character.</summary>
    public static IReadOnlyList<char> Encoder { get; }

    /// <summary>Character → byte.</summary>
    public static IReadOnlyDictionary<char, byte> Decoder { get; }

    static ByteUnicode()
    {
        var order = new List<byte>(256);
        static bool Printable(int b) => b is (>= '!' and <= '~') or (>= 0xA1 and <= 0xAC) or (>= 0xAE and <= 0xFF);
        for (int b = 0; b < 256; b++) if (Printable(b)) order.Add((byte)b);
        var encoder = new char[256];
        foreach (var b in order) encoder[b] = (char)b;
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            if (Printable(b)) continue;
            order.Add((byte)b);
            encoder[b] = (char)(256 + n++);
        }
        ReferenceOrder = order;
        Encoder = encoder;
        Decoder = Enumerable.Range(0, 256).ToDictionary(b => encoder[b], b => (byte)b);
    }
}
