using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace OpenMavn.Samples.QrBillPayments;

/// <summary>Options of the QR-bill payment provider (<c>OpenMavn:Payments:QrBill</c>).</summary>
public sealed class QrBillOptions
{
    /// <summary>The provider's own SQLite database (bills, receipts, refunds). Default <c>Data Source=qrbill.db</c>.</summary>
    public string ConnectionString { get; set; } = "Data Source=qrbill.db";

    /// <summary>
    /// Where a host shows a bill: the checkout link is this plus the bill id (<c>qrb_…</c>, 96 random bits, so the link
    /// is as hard to guess as a payment page's). Default <c>https://localhost/qrbill/bills/</c>.
    /// </summary>
    public string BillBaseUrl { get; set; } = "https://localhost/qrbill/bills/";

    /// <summary>
    /// Digits (0 to 10) that start every QR reference of this host, e.g. to tell its bills from others paid into the
    /// same account. Changing it later leaves existing bills' references as they are. Default empty.
    /// </summary>
    public string ReferencePrefix { get; set; } = "";

    /// <summary>
    /// What a payment on a cancelled bill does (the order's reservation lapsed before the money arrived). False (the
    /// default): it is recorded and reported for the merchant to return; the order stays lapsed. True: it is applied
    /// as if the bill were open, and once covered the payment reads Confirmed, so Core takes the stock again if any is
    /// left and issues the vouchers, or else queues a refund (which lands here as a pending refund).
    /// </summary>
    public bool ApplyPaymentsAfterCancellation { get; set; }

    /// <summary>Largest camt.054 document accepted by an import, bytes. Default 20 MB.</summary>
    public int MaxImportBytes { get; set; } = 20 * 1024 * 1024;
}

/// <summary>Validates <see cref="QrBillOptions"/> at start-up.</summary>
internal sealed class QrBillOptionsValidator : IValidateOptions<QrBillOptions>
{
    public ValidateOptionsResult Validate(string? name, QrBillOptions options)
    {
        var failures = new List<string>();
        try
        {
            if (string.IsNullOrWhiteSpace(new SqliteConnectionStringBuilder(options.ConnectionString).DataSource))
            {
                failures.Add("OpenMavn:Payments:QrBill:ConnectionString must name a SQLite database (Data Source=…).");
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException)
        {
            failures.Add("OpenMavn:Payments:QrBill:ConnectionString is not a SQLite connection string: " + ex.Message);
        }

        // On Linux and macOS "/bills/" parses as an absolute file:// URI: require http or https.
        if (!Uri.TryCreate(options.BillBaseUrl, UriKind.Absolute, out var baseUrl)
            || (baseUrl.Scheme != Uri.UriSchemeHttps && baseUrl.Scheme != Uri.UriSchemeHttp)
            || !options.BillBaseUrl.EndsWith('/') || !string.IsNullOrEmpty(baseUrl.Query) || !string.IsNullOrEmpty(baseUrl.Fragment))
        {
            failures.Add("OpenMavn:Payments:QrBill:BillBaseUrl must be an absolute http(s) URL ending in '/', without query or fragment.");
        }

        if (options.ReferencePrefix is null || options.ReferencePrefix.Length > 10 || !options.ReferencePrefix.All(char.IsAsciiDigit))
        {
            failures.Add("OpenMavn:Payments:QrBill:ReferencePrefix must be 0 to 10 digits.");
        }

        if (options.MaxImportBytes is < 1024 or > 200 * 1024 * 1024)
        {
            failures.Add("OpenMavn:Payments:QrBill:MaxImportBytes must be between 1 KB and 200 MB.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
