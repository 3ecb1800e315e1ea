using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using OpenMavn.Core;
using OpenMavn.Samples.QrBillPayments.Bills;

namespace OpenMavn.Samples.QrBillPayments.Receipts;

/// <summary>One incoming payment read from a camt.054 notification.</summary>
/// <param name="AccountIban">The notified account (<c>Ntfctn/Acct/Id/IBAN</c>), when given.</param>
/// <param name="DedupeKey">The bank's unique reference of the transaction: the same transaction imported twice has the same key.</param>
/// <param name="BankReference">The bank's reference, kept as the payment's transaction id.</param>
/// <param name="Reference">The QR reference (spaces removed), null when the transaction carries none or an invalid one.</param>
/// <param name="RawReference">The creditor reference as written, for the report.</param>
/// <param name="Amount">Amount, minor units.</param>
/// <param name="Currency">Currency.</param>
/// <param name="BookedOn">Booking date.</param>
public sealed record Camt054Credit(string? AccountIban, string DedupeKey, string BankReference, string? Reference, string? RawReference, long Amount, string Currency, DateOnly? BookedOn);

/// <summary>What a camt.054 document holds, for this provider.</summary>
/// <param name="MessageId">The message id (<c>GrpHdr/MsgId</c>).</param>
/// <param name="Version">The message version, e.g. <c>camt.054.001.08</c>.</param>
/// <param name="Credits">Booked credit transactions.</param>
/// <param name="Skipped">Entries or transactions left out: debits and entries not booked.</param>
public sealed record Camt054Document(string MessageId, string Version, IReadOnlyList<Camt054Credit> Credits, int Skipped);

/// <summary>
/// Reads ISO 20022 <c>BankToCustomerDebitCreditNotification</c> (camt.054, versions .001.04 to .001.08) as Swiss banks
/// send it for QR-bill payments: booked credit entries (<c>CdtDbtInd</c> CRDT; <c>Sts</c> BOOK, or <c>Sts/Cd</c> BOOK
/// from .08 on), each transaction (<c>NtryDtls/TxDtls</c>) with its amount and its creditor reference
/// (<c>RmtInf/Strd/CdtrRefInf/Ref</c>). Hostile input is refused: no DTD (so no entity expansion or external entities),
/// no resolver, a size limit.
/// </summary>
public static class Camt054Reader
{
    private const string NamespacePrefix = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.";
    private static readonly string[] Versions = ["04", "05", "06", "07", "08"];

    /// <summary>Reads a document of at most <paramref name="maxBytes"/> bytes; throws <see cref="ValidationFailedException"/> (field <c>file</c>) when it is not one.</summary>
    public static async Task<Camt054Document> ReadAsync(Stream xml, int maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(xml);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await xml.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw Invalid($"The file is larger than {maxBytes} bytes.");
            }

            buffer.Write(chunk, 0, read);
        }

        buffer.Position = 0;
        return Read(buffer, maxBytes);
    }

    /// <summary>Reads a document already in memory.</summary>
    public static Camt054Document Read(Stream xml, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(xml);
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersInDocument = maxBytes,
            MaxCharactersFromEntities = 1024,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = true,
        };
        XDocument document;
        try
        {
            using var reader = XmlReader.Create(xml, settings);
            document = XDocument.Load(reader, LoadOptions.None);
        }
        catch (XmlException ex)
        {
            throw Invalid("Not a readable XML document (a DTD is refused): " + ex.Message);
        }

        var root = document.Root;
        var ns = root?.Name.Namespace.NamespaceName ?? "";
        if (root is null || root.Name.LocalName != "Document" || !ns.StartsWith(NamespacePrefix, StringComparison.Ordinal) || !Versions.Contains(ns[NamespacePrefix.Length..]))
        {
            throw Invalid($"Not a camt.054 document of a supported version (001.{string.Join("/", Versions)}); namespace '{ns}'.");
        }

        XNamespace x = ns;
        var notification = root.Element(x + "BkToCstmrDbtCdtNtfctn") ?? throw Invalid("BkToCstmrDbtCdtNtfctn is missing.");
        var messageId = notification.Element(x + "GrpHdr")?.Element(x + "MsgId")?.Value.Trim();
        if (string.IsNullOrEmpty(messageId))
        {
            throw Invalid("GrpHdr/MsgId is missing.");
        }

        var credits = new List<Camt054Credit>();
        var skipped = 0;
        foreach (var ntfctn in notification.Elements(x + "Ntfctn"))
        {
            var account = ntfctn.Element(x + "Acct")?.Element(x + "Id")?.Element(x + "IBAN")?.Value;
            account = account is null ? null : Iban.Compact(account);
            var entryIndex = 0;
            foreach (var entry in ntfctn.Elements(x + "Ntry"))
            {
                entryIndex++;
                var entryStatus = entry.Element(x + "Sts") is { } sts ? (sts.Element(x + "Cd")?.Value ?? sts.Value).Trim() : "";
                var entryDirection = entry.Element(x + "CdtDbtInd")?.Value.Trim();
                if (entryStatus != "BOOK" || entryDirection != "CRDT")
                {
                    skipped++;
                    continue;
                }

                var entryAmount = entry.Element(x + "Amt");
                var entryRef = entry.Element(x + "AcctSvcrRef")?.Value.Trim() is { Length: > 0 } r ? r : entry.Element(x + "NtryRef")?.Value.Trim();
                var booked = Date(entry.Element(x + "BookgDt"), x);
                var transactions = entry.Elements(x + "NtryDtls").SelectMany(d => d.Elements(x + "TxDtls")).ToList();
                if (transactions.Count == 0)
                {
                    // A booked credit without details: one payment without a reference.
                    credits.Add(Credit(account, messageId, entryIndex, 1, entryRef, null, entryAmount, null, booked));
                    continue;
                }

                var transactionIndex = 0;
                foreach (var tx in transactions)
                {
                    transactionIndex++;
                    if (tx.Element(x + "CdtDbtInd")?.Value.Trim() is { } direction && direction != "CRDT")
                    {
                        skipped++;
                        continue;
                    }

                    var amount = tx.Element(x + "Amt")
                        ?? tx.Element(x + "AmtDtls")?.Element(x + "TxAmt")?.Element(x + "Amt")
                        ?? (transactions.Count == 1 ? entryAmount : null);
                    var txRef = tx.Element(x + "Refs")?.Element(x + "AcctSvcrRef")?.Value.Trim();
                    var reference = tx.Element(x + "RmtInf")?.Elements(x + "Strd").Select(s => s.Element(x + "CdtrRefInf")?.Element(x + "Ref")?.Value.Trim()).FirstOrDefault(v => !string.IsNullOrEmpty(v));
                    credits.Add(Credit(account, messageId, entryIndex, transactionIndex, entryRef, txRef, amount, reference, booked));
                }
            }
        }

        return new Camt054Document(messageId, "camt.054.001." + ns[NamespacePrefix.Length..], credits, skipped);
    }

    private static Camt054Credit Credit(string? account, string messageId, int entryIndex, int transactionIndex, string? entryRef, string? txRef, XElement? amount, string? reference, DateOnly? booked)
    {
        if (amount is null)
        {
            throw Invalid($"Entry {entryIndex}, transaction {transactionIndex}: no amount.");
        }

        var currency = amount.Attribute("Ccy")?.Value.Trim().ToUpperInvariant();
        if (currency is not { Length: 3 } || !decimal.TryParse(amount.Value.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            || value <= 0 || value > SwissPaymentsCode.MaxAmount / 100m || decimal.Round(value, 2) != value)
        {
            throw Invalid($"Entry {entryIndex}, transaction {transactionIndex}: '{amount.Value}' {currency} is not an amount.");
        }

        // The transaction's own bank reference identifies it; else the entry's plus the position in it. Without either,
        // a digest of what the bank said stands in (stable across two imports of the same file).
        var key = txRef is { Length: > 0 } ? "tx:" + txRef
            : entryRef is { Length: > 0 } ? $"ntry:{entryRef}#{transactionIndex}"
            : "msg:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{messageId}|{entryIndex}|{transactionIndex}|{reference}|{amount.Value}|{currency}")));
        return new Camt054Credit(account, key, txRef ?? entryRef ?? key, QrReference.Normalize(reference), reference, (long)(value * 100), currency, booked);
    }

    private static DateOnly? Date(XElement? element, XNamespace x)
    {
        var text = element?.Element(x + "Dt")?.Value ?? element?.Element(x + "DtTm")?.Value;
        return text is { Length: >= 10 } && DateOnly.TryParseExact(text[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;
    }

    private static ValidationFailedException Invalid(string message) => new("file", message);
}
