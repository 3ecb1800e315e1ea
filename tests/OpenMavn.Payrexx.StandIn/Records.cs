namespace OpenMavn.Payrexx.StandIn;

/// <summary>One request as the stand-in received it (every request, including refused and injected-failure ones).</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="PathAndQuery">The path and the raw query string, as sent.</param>
/// <param name="Headers">Request headers (case-insensitive names; repeated headers joined with ", ").</param>
/// <param name="Body">The raw body as UTF-8 text ("" when none).</param>
public sealed record RecordedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body)
{
    /// <summary>The decoded query parameters, in the order sent.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Query =>
        PhpQuery.ParsePairs(PathAndQuery.Contains('?', StringComparison.Ordinal) ? PathAndQuery[(PathAndQuery.IndexOf('?', StringComparison.Ordinal) + 1)..] : null);

    /// <summary>The decoded form-body parameters, in the order sent (empty when the body is not a form).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Form =>
        Headers.TryGetValue("Content-Type", out var type) && type.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
            ? PhpQuery.ParsePairs(Body)
            : [];
}

/// <summary>A gateway (hosted payment page) as the stand-in holds it.</summary>
/// <param name="Id">The gateway id (the invoices' <c>paymentRequestId</c>).</param>
/// <param name="Instance">The instance it was created on.</param>
/// <param name="Status">The gateway status.</param>
/// <param name="Amount">The amount in minor units.</param>
/// <param name="Currency">The ISO 4217 currency.</param>
/// <param name="ReferenceId">The <c>referenceId</c> sent, if any.</param>
/// <param name="Purpose">The <c>purpose</c> sent, if any.</param>
/// <param name="Deleted">Whether it was deleted through <c>DELETE /Gateway/{id}/</c>.</param>
/// <param name="Parameters">Every decoded parameter of the create request, in the order sent (instance and ApiSignature left out).</param>
/// <param name="Transactions">Its transactions, oldest first.</param>
public sealed record GatewaySnapshot(
    int Id,
    string Instance,
    string Status,
    long Amount,
    string Currency,
    string? ReferenceId,
    string? Purpose,
    bool Deleted,
    IReadOnlyList<KeyValuePair<string, string>> Parameters,
    IReadOnlyList<TransactionSnapshot> Transactions);

/// <summary>A transaction as the stand-in holds it.</summary>
/// <param name="Id">The numeric transaction id.</param>
/// <param name="Uuid">The transaction uuid.</param>
/// <param name="GatewayId">The gateway it paid.</param>
/// <param name="Status">The current status.</param>
/// <param name="Amount">The amount in minor units.</param>
/// <param name="RefundedAmount">How much has been refunded (or is pending refund).</param>
/// <param name="Test">Whether it was a test-mode payment.</param>
/// <param name="StatusHistory">Every status it went through, oldest first (one webhook each on the real service).</param>
public sealed record TransactionSnapshot(
    int Id,
    string Uuid,
    int GatewayId,
    string Status,
    long Amount,
    long RefundedAmount,
    bool Test,
    IReadOnlyList<string> StatusHistory);

/// <summary>A webhook body as Payrexx would POST it to a shop.</summary>
/// <param name="ContentType">The content type (<c>application/json</c> or <c>application/x-www-form-urlencoded</c>).</param>
/// <param name="Body">The body text.</param>
public sealed record PayrexxWebhook(string ContentType, string Body);
