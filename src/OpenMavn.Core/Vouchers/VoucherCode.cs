using System.Security.Cryptography;

namespace OpenMavn.Core.Vouchers;

/// <summary>
/// Voucher codes: 19 symbols from a cryptographically secure generator (95 bits) plus a Damm check symbol over
/// GF(32), from Crockford's unambiguous base-32 alphabet (no I, L, O, U), shown in groups of four:
/// <c>7K2M-QX9D-HT4P-W8RN-3FBC</c>. Typing O for 0 or I/L for 1 is forgiven; every single wrong symbol and every
/// swap of two different neighbours is caught by the check symbol before any database lookup.
/// </summary>
public static class VoucherCode
{
    /// <summary>The alphabet.</summary>
    public const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    /// <summary>Random symbols per code.</summary>
    public const int RandomSymbols = 19;

    /// <summary>Symbols in a canonical code (random + check).</summary>
    public const int Length = RandomSymbols + 1;

    /// <summary>Bits of randomness per code (5 per symbol).</summary>
    public const int EntropyBits = RandomSymbols * 5;

    private const int GroupSize = 4;

    /// <summary>Generates a new code in canonical form (no separators).</summary>
    public static string Generate()
    {
        Span<byte> random = stackalloc byte[12]; // 96 bits, of which 95 are used: 19 × 5
        RandomNumberGenerator.Fill(random);
        Span<char> symbols = stackalloc char[Length];
        var bitBuffer = 0UL;
        var bits = 0;
        var index = 0;
        var next = 0;
        while (next < RandomSymbols)
        {
            if (bits < 5)
            {
                bitBuffer = (bitBuffer << 8) | random[index++];
                bits += 8;
            }

            bits -= 5;
            symbols[next++] = Alphabet[(int)((bitBuffer >> bits) & 31)];
        }

        symbols[RandomSymbols] = Alphabet[CheckValue(symbols[..RandomSymbols])];
        return new string(symbols);
    }

    /// <summary>Formats a canonical code in groups of four for people.</summary>
    public static string Format(string canonical)
    {
        if (string.IsNullOrEmpty(canonical))
        {
            return canonical;
        }

        var groups = Enumerable.Range(0, (canonical.Length + GroupSize - 1) / GroupSize)
            .Select(i => canonical.Substring(i * GroupSize, Math.Min(GroupSize, canonical.Length - (i * GroupSize))));
        return string.Join('-', groups);
    }

    /// <summary>
    /// Normalizes what a person typed or a scanner read (case, spaces, dashes, O/0 and I/L/1 confusion) and checks
    /// length, alphabet and check symbol.
    /// </summary>
    /// <returns>True with the canonical code; false with a reason that never depends on any stored voucher.</returns>
    public static bool TryParse(string? input, out string canonical, out string error)
    {
        canonical = "";
        if (string.IsNullOrWhiteSpace(input))
        {
            error = "The code is empty.";
            return false;
        }

        if (input.Length > 64)
        {
            error = "The code is too long.";
            return false;
        }

        Span<char> buffer = stackalloc char[64];
        var length = 0;
        foreach (var raw in input)
        {
            if (raw is '-' or ' ' or '\t')
            {
                continue;
            }

            var c = char.ToUpperInvariant(raw) switch
            {
                'O' => '0',
                'I' or 'L' => '1',
                var other => other,
            };
            if (Alphabet.IndexOf(c, StringComparison.Ordinal) < 0)
            {
                error = "The code contains a character that is not used in voucher codes.";
                return false;
            }

            if (length == Length)
            {
                error = $"A voucher code has {Length} characters.";
                return false;
            }

            buffer[length++] = c;
        }

        if (length != Length)
        {
            error = $"A voucher code has {Length} characters.";
            return false;
        }

        var code = buffer[..length];
        if (Alphabet[CheckValue(code[..RandomSymbols])] != code[RandomSymbols])
        {
            error = "The code has a typo (its check character does not match).";
            return false;
        }

        canonical = new string(code);
        error = "";
        return true;
    }

    /// <summary>
    /// Damm check value of <paramref name="payload"/> over the quasigroup x∘y = 2·x ⊕ y in GF(32) (polynomial
    /// x⁵ + x² + 1). The quasigroup is totally anti-symmetric, so the check symbol catches every single-symbol
    /// substitution and every swap of two different neighbours (Luhn mod 32 misses 0↔Z).
    /// </summary>
    internal static int CheckValue(ReadOnlySpan<char> payload)
    {
        var interim = 0;
        foreach (var symbol in payload)
        {
            interim = Double(interim) ^ Alphabet.IndexOf(symbol, StringComparison.Ordinal);
        }

        // The check symbol c makes interim∘c = 0, i.e. c = 2·interim.
        return Double(interim);
    }

    private static int Double(int value)
    {
        var doubled = value << 1;
        return (doubled & 0x20) != 0 ? doubled ^ 0x25 : doubled;
    }
}
