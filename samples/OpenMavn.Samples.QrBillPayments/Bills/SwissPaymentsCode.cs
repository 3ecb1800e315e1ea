using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenMavn.Samples.QrBillPayments.Bills;

/// <summary>
/// The creditor's structured address (address type <c>S</c>) as the QR-bill prints it. A merchant gives it as the
/// JSON "secret" of its payment account: <c>{"name":"…","street":"…","buildingNumber":"…","postalCode":"…","town":"…","country":"CH"}</c>.
/// </summary>
/// <param name="Name">Name or company, at most 70 characters.</param>
/// <param name="Street">Street, at most 70 characters (may be empty).</param>
/// <param name="BuildingNumber">Building number, at most 16 characters (may be empty).</param>
/// <param name="PostalCode">Postal code without country prefix, at most 16 characters.</param>
/// <param name="Town">Town, at most 35 characters.</param>
/// <param name="Country">Two-letter ISO 3166 country code.</param>
public sealed record QrBillCreditor(string Name, string? Street, string? BuildingNumber, string PostalCode, string Town, string Country)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip };

    /// <summary>Problems that keep this address off a QR-bill; empty when it is fine.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void Check(bool bad, string message)
        {
            if (bad)
            {
                problems.Add(message);
            }
        }

        Check(string.IsNullOrWhiteSpace(Name) || Name.Trim().Length > 70, "name: 1 to 70 characters");
        Check(Street is { Length: > 70 }, "street: at most 70 characters");
        Check(BuildingNumber is { Length: > 16 }, "buildingNumber: at most 16 characters");
        Check(string.IsNullOrWhiteSpace(PostalCode) || PostalCode.Trim().Length > 16, "postalCode: 1 to 16 characters");
        Check(string.IsNullOrWhiteSpace(Town) || Town.Trim().Length > 35, "town: 1 to 35 characters");
        Check(Country is not { Length: 2 } || !Country.All(char.IsAsciiLetterUpper), "country: two upper-case letters (ISO 3166)");
        foreach (var (field, value) in new[] { ("name", Name), ("street", Street), ("buildingNumber", BuildingNumber), ("postalCode", PostalCode), ("town", Town) })
        {
            Check(value is not null && !SwissPaymentsCode.IsPermitted(value), $"{field}: contains characters the QR-bill does not permit");
        }

        return problems;
    }

    /// <summary>Reads the JSON form; null when it is not an object with the required fields.</summary>
    public static QrBillCreditor? FromJson(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            var creditor = JsonSerializer.Deserialize<QrBillCreditor>(json, Json);
            return creditor is { Name: not null, PostalCode: not null, Town: not null, Country: not null } ? creditor : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The JSON form.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

/// <summary>
/// The Swiss Payments Code: the text inside the QR code of a QR-bill (Swiss Implementation Guidelines for the
/// QR-bill, version 2.3, data structure version <c>0200</c>, coding type 1 = UTF-8 with the Latin character set).
/// </summary>
public static class SwissPaymentsCode
{
    /// <summary>The element separator used here (the guidelines allow CR LF or LF; no separator after the last element).</summary>
    public const string Separator = "\n";

    /// <summary>Largest amount a QR-bill carries, minor units (999 999 999.99).</summary>
    public const long MaxAmount = 99_999_999_999;

    /// <summary>
    /// The payload: header, creditor account and structured address, seven empty lines for the ultimate creditor
    /// (reserved), amount and currency, seven empty lines for the ultimate debtor (unknown here), reference type QRR
    /// and reference, the unstructured message and the trailer <c>EPD</c>. No billing information, no alternative
    /// schemes, so the payload ends with <c>EPD</c>.
    /// </summary>
    /// <param name="qrIban">The creditor's QR-IBAN.</param>
    /// <param name="creditor">The creditor's structured address.</param>
    /// <param name="amount">Amount in minor units (1 to <see cref="MaxAmount"/>).</param>
    /// <param name="currency"><c>CHF</c> or <c>EUR</c>.</param>
    /// <param name="reference">The 27-digit QR reference.</param>
    /// <param name="message">Unstructured message (the order's purpose); shortened to 140 characters, characters the standard does not permit become <c>.</c>.</param>
    public static string Build(string qrIban, QrBillCreditor creditor, long amount, string currency, string reference, string? message)
    {
        ArgumentNullException.ThrowIfNull(creditor);
        if (!Iban.IsQrIban(qrIban))
        {
            throw new ArgumentException("A QR reference needs a QR-IBAN.", nameof(qrIban));
        }

        if (creditor.Problems() is { Count: > 0 } problems)
        {
            throw new ArgumentException("Creditor address: " + string.Join("; ", problems), nameof(creditor));
        }

        if (amount is < 1 or > MaxAmount)
        {
            throw new ArgumentOutOfRangeException(nameof(amount), "A QR-bill amount lies between 0.01 and 999999999.99.");
        }

        if (currency is not ("CHF" or "EUR"))
        {
            throw new ArgumentException("A QR-bill is in CHF or EUR.", nameof(currency));
        }

        if (!QrReference.IsValid(reference))
        {
            throw new ArgumentException("Not a valid QR reference.", nameof(reference));
        }

        string[] lines =
        [
            "SPC", // QRType
            "0200", // Version
            "1", // Coding type: UTF-8, Latin character set
            Iban.Compact(qrIban), // CdtrInf/IBAN
            "S", // Cdtr/AdrTp: structured
            creditor.Name.Trim(),
            creditor.Street?.Trim() ?? "",
            creditor.BuildingNumber?.Trim() ?? "",
            creditor.PostalCode.Trim(),
            creditor.Town.Trim(),
            creditor.Country,
            "", "", "", "", "", "", "", // UltmtCdtr: reserved for future use, must stay empty
            FormatAmount(amount), // CcyAmt/Amt
            currency, // CcyAmt/Ccy
            "", "", "", "", "", "", "", // UltmtDbtr: not known when the bill is made
            "QRR", // RmtInf/Tp
            reference, // RmtInf/Ref
            Sanitize(message, 140), // RmtInf/AddInf/Ustrd
            "EPD", // RmtInf/AddInf/Trailer
        ];
        return string.Join(Separator, lines);
    }

    /// <summary>Amount as the QR-bill writes it: decimal point, always two decimals, no thousands separator.</summary>
    public static string FormatAmount(long amount) =>
        string.Create(CultureInfo.InvariantCulture, $"{amount / 100}.{amount % 100:D2}");

    /// <summary>
    /// True when every character belongs to the Latin character set of the guidelines (2.3): Basic Latin printable,
    /// Latin-1 Supplement and Latin Extended-A, plus Ș ș Ț ț and €.
    /// </summary>
    public static bool IsPermitted(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.All(IsPermitted);
    }

    private static bool IsPermitted(char c) =>
        c is (>= '\u0020' and <= '\u007E') or (>= '\u00A0' and <= '\u017F') or (>= '\u0218' and <= '\u021B') or '\u20AC';

    /// <summary>Replaces characters the standard does not permit with <c>.</c> and shortens to <paramref name="max"/>.</summary>
    internal static string Sanitize(string? value, int max)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return "";
        }

        var text = new StringBuilder(value.Length);
        foreach (var c in value.Trim())
        {
            text.Append(IsPermitted(c) ? c : '.');
        }

        return text.Length > max ? text.ToString(0, max).TrimEnd() : text.ToString();
    }
}
