using System.Globalization;
using System.Text;

namespace OpenMavn.Samples.QrBillPayments.Bills;

/// <summary>
/// The QR reference (QRR) of a Swiss QR-bill: 27 digits, the last one a modulo-10 recursive check digit over the
/// first 26 (the algorithm of the former ISR/ESR reference, Swiss Implementation Guidelines for the QR-bill).
/// </summary>
public static class QrReference
{
    /// <summary>Length of a QR reference.</summary>
    public const int Length = 27;

    // The modulo-10 recursive carry table of the Swiss payment standards.
    private static readonly int[] Table = [0, 9, 4, 6, 8, 2, 7, 1, 3, 5];

    /// <summary>The check digit of a string of digits (the first 26 digits of a QRR).</summary>
    /// <exception cref="ArgumentException">A character is not a digit.</exception>
    public static int CheckDigit(ReadOnlySpan<char> digits)
    {
        var carry = 0;
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                throw new ArgumentException("Only digits have a modulo-10 check digit.", nameof(digits));
            }

            carry = Table[(carry + (c - '0')) % 10];
        }

        return (10 - carry) % 10;
    }

    /// <summary>
    /// The reference of bill number <paramref name="number"/>: <paramref name="prefix"/> (digits, may be empty), the
    /// number zero-padded to fill 26 digits, and the check digit. Distinct (prefix, number) pairs give distinct
    /// references as long as the prefix stays the same.
    /// </summary>
    public static string Create(string prefix, long number)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentOutOfRangeException.ThrowIfNegative(number);
        if (prefix.Any(c => !char.IsAsciiDigit(c)) || prefix.Length > 10)
        {
            throw new ArgumentException("The prefix is 0 to 10 digits.", nameof(prefix));
        }

        var digits = number.ToString(CultureInfo.InvariantCulture);
        var width = Length - 1 - prefix.Length;
        if (digits.Length > width)
        {
            throw new ArgumentOutOfRangeException(nameof(number), "The bill number does not fit beside the prefix.");
        }

        var body = prefix + digits.PadLeft(width, '0');
        return body + CheckDigit(body).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Removes spaces; null when what is left is not 27 digits with a correct check digit.</summary>
    public static string? Normalize(string? reference)
    {
        if (reference is null)
        {
            return null;
        }

        var compact = reference.Replace(" ", "", StringComparison.Ordinal).Trim();
        return IsValid(compact) ? compact : null;
    }

    /// <summary>True for 27 digits (no spaces) whose last digit checks the first 26.</summary>
    public static bool IsValid(string? reference) =>
        reference is { Length: Length }
        && reference.All(char.IsAsciiDigit)
        && CheckDigit(reference.AsSpan(0, Length - 1)) == reference[Length - 1] - '0';

    /// <summary>The printed form: two digits, then groups of five (<c>21 00000 00003 13947 14300 09017</c>).</summary>
    public static string Format(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var text = new StringBuilder(reference[..Math.Min(2, reference.Length)]);
        for (var i = 2; i < reference.Length; i += 5)
        {
            text.Append(' ').Append(reference.AsSpan(i, Math.Min(5, reference.Length - i)));
        }

        return text.ToString();
    }
}
