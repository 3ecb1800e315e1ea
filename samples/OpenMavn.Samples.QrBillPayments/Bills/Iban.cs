namespace OpenMavn.Samples.QrBillPayments.Bills;

/// <summary>Swiss and Liechtenstein IBANs and QR-IBANs.</summary>
public static class Iban
{
    /// <summary>Removes spaces and upper-cases; no check.</summary>
    public static string Compact(string iban)
    {
        ArgumentNullException.ThrowIfNull(iban);
        return iban.Replace(" ", "", StringComparison.Ordinal).Trim().ToUpperInvariant();
    }

    /// <summary>
    /// True for a CH or LI IBAN: 21 characters (country, two check digits, five-digit institution id, twelve
    /// alphanumerics) whose ISO 13616 mod-97 checksum is 1. Spaces are ignored.
    /// </summary>
    public static bool IsSwissIban(string? iban)
    {
        if (iban is null)
        {
            return false;
        }

        var compact = Compact(iban);
        return compact.Length == 21
            && (compact.StartsWith("CH", StringComparison.Ordinal) || compact.StartsWith("LI", StringComparison.Ordinal))
            && compact.AsSpan(2, 7).ToString().All(char.IsAsciiDigit)
            && compact.AsSpan(9).ToString().All(char.IsAsciiLetterOrDigit)
            && Mod97(compact) == 1;
    }

    /// <summary>
    /// True for a QR-IBAN: a valid CH/LI IBAN whose institution id (QR-IID, positions 5 to 9) lies in 30000–31999.
    /// Only a QR-IBAN may carry a QR reference (QRR).
    /// </summary>
    public static bool IsQrIban(string? iban)
    {
        if (!IsSwissIban(iban))
        {
            return false;
        }

        var iid = int.Parse(Compact(iban!).AsSpan(4, 5), System.Globalization.CultureInfo.InvariantCulture);
        return iid is >= 30000 and <= 31999;
    }

    /// <summary>ISO 7064 mod 97-10 of the IBAN (first four characters moved to the end, letters as 10–35).</summary>
    internal static int Mod97(string compact)
    {
        var remainder = 0;
        var rearranged = compact[4..] + compact[..4];
        foreach (var c in rearranged)
        {
            var value = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiLetterUpper(c) ? c - 'A' + 10 : -1;
            if (value < 0)
            {
                return -1;
            }

            remainder = value >= 10 ? ((remainder * 100) + value) % 97 : ((remainder * 10) + value) % 97;
        }

        return remainder;
    }
}
