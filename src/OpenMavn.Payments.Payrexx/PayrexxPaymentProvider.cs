using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using OpenMavn.Core.Payments;
using RestSharp;

namespace OpenMavn.Payments.Payrexx;

/// <summary>
/// Payrexx (<c>payrexx</c>): a hosted payment page per order (<c>POST /Gateway/</c>), its state read back with
/// <c>GET /Gateway/{id}/</c>, refunds through <c>POST /Transaction/{id}/refund</c>, and unsigned webhooks read as hints.
/// Each merchant connects its own Payrexx instance (account id) and API secret.
/// </summary>
public sealed partial class PayrexxPaymentProvider : IPaymentProvider, IDisposable
{
    /// <summary>The provider name.</summary>
    public const string ProviderName = "payrexx";

    private readonly PayrexxClient _client;
    private readonly IOptionsMonitor<PayrexxOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<PayrexxPaymentProvider> _logger;

    /// <summary>Creates the provider.</summary>
    public PayrexxPaymentProvider(IOptionsMonitor<PayrexxOptions> options, TimeProvider time, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(loggers);
        _options = options;
        _time = time;
        _logger = loggers.CreateLogger<PayrexxPaymentProvider>();
        _client = new PayrexxClient(options, time, loggers.CreateLogger<PayrexxClient>());
    }

    internal PayrexxPaymentProvider(IOptionsMonitor<PayrexxOptions> options, TimeProvider time, ILoggerFactory loggers, PayrexxClient client)
        : this(options, time, loggers)
    {
        _client.Dispose();
        _client = client;
    }

    /// <inheritdoc />
    public string Name => ProviderName;

    /// <inheritdoc />
    public bool AcceptsTestPayments => _options.CurrentValue.AllowTestPayments ?? false;

    /// <inheritdoc />
    public async Task VerifyAccountAsync(PaymentAccountCredentials account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);

        // The client throws on anything but a success envelope; a 2xx without one is a refusal, not a pass.
        await _client.SendAsync(account, Method.Get, "SignatureCheck", null, null, [], notFoundIsAnswer: false, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Payrexx has no idempotency and no search by reference, so this creates a new gateway on every call. Core calls it
    /// only while the order has no stored gateway, and this client never retries the POST: a create that fails (even a
    /// timeout, after which a gateway may exist) surfaces as an error and the reservation lapses.
    /// </remarks>
    public async Task<CheckoutSession> CreateCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Amount.Amount <= 0)
        {
            throw new ProviderException(Name, "A Payrexx gateway needs a positive amount.", transient: false);
        }

        var parameters = GatewayParameters(request, _time.GetUtcNow());
        var response = await _client.SendAsync(request.Account, Method.Post, "Gateway", null, null, parameters, notFoundIsAnswer: false, cancellationToken);
        var data = response.Data;
        var id = data is { } d ? Scalar(d, "id") : null;
        var link = data is { } e ? Scalar(e, "link") : null;
        if (id is null || !Uri.TryCreate(link, UriKind.Absolute, out var url))
        {
            throw new ProviderException(Name, "Payrexx created a gateway but its answer has no id or link.", transient: false);
        }

        LogGatewayCreated(_logger, id, request.OrderId);
        return new CheckoutSession(id, url);
    }

    internal static List<KeyValuePair<string, object?>> GatewayParameters(CheckoutRequest request, DateTimeOffset now)
    {
        var minutes = (long)Math.Floor((request.ExpiresAt - now).TotalMinutes);
        var parameters = new List<KeyValuePair<string, object?>>
        {
            new("amount", request.Amount.Amount),
            new("currency", request.Amount.Currency.ToUpperInvariant()),
            new("purpose", request.Purpose),
            new("referenceId", request.OrderId.ToString()),
            new("successRedirectUrl", request.SuccessUrl?.AbsoluteUri),
            new("failedRedirectUrl", request.FailedUrl?.AbsoluteUri),
            new("cancelRedirectUrl", request.CancelUrl?.AbsoluteUri),
            new("validity", Math.Max(1, minutes)),
        };
        if (!string.IsNullOrWhiteSpace(request.CustomerEmail))
        {
            parameters.Add(new("fields", new KeyValuePair<string, object?>[]
            {
                new("email", new KeyValuePair<string, object?>[] { new("value", request.CustomerEmail) }),
            }));
        }

        return parameters;
    }

    /// <inheritdoc />
    public async Task<PaymentStatusReport> GetPaymentAsync(PaymentAccountCredentials account, string providerPaymentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentException.ThrowIfNullOrWhiteSpace(providerPaymentId);
        var response = await _client.SendAsync(account, Method.Get, "Gateway", providerPaymentId, null, [], notFoundIsAnswer: false, cancellationToken);
        if (response.Data is not { ValueKind: JsonValueKind.Object } data)
        {
            throw new ProviderException(Name, $"Payrexx returned no gateway {providerPaymentId}.", transient: false);
        }

        return Report(providerPaymentId, data, _logger);
    }

    internal static PaymentStatusReport Report(string providerPaymentId, JsonElement gateway, ILogger logger)
    {
        var raw = Scalar(gateway, "status") ?? "";
        var status = PayrexxStatuses.Map(raw);
        if (status == PaymentStatus.Unknown)
        {
            LogUnknownStatus(logger, providerPaymentId, raw);
        }

        var amount = long.TryParse(Scalar(gateway, "amount"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var a) ? a : 0;
        var currency = Scalar(gateway, "currency")?.ToUpperInvariant() ?? "";
        Guid? orderId = Guid.TryParse(Scalar(gateway, "referenceId"), out var reference) ? reference : null;
        string? transactionId = null;
        var isTest = false;
        if (gateway.TryGetProperty("invoices", out var invoices) && invoices.ValueKind == JsonValueKind.Array && invoices.GetArrayLength() > 0
            && invoices[0] is { ValueKind: JsonValueKind.Object } invoice)
        {
            isTest = Scalar(invoice, "test") is "1" or "true";
            if (invoice.TryGetProperty("transactions", out var transactions) && transactions.ValueKind == JsonValueKind.Array
                && Settled(transactions) is { } transaction)
            {
                transactionId = Scalar(transaction, "id");

                // A refund moves the transaction, not the gateway, which still reads confirmed: report the refund
                // (Core completes a pending refund once the payment reads refunded or partially refunded).
                var transactionRaw = Scalar(transaction, "status");
                if (status == PaymentStatus.Confirmed && PayrexxStatuses.Map(transactionRaw) is PaymentStatus.Refunded or PaymentStatus.PartiallyRefunded
                    or PaymentStatus.RefundPending or PaymentStatus.Disputed)
                {
                    raw = transactionRaw!;
                    status = PayrexxStatuses.Map(raw);
                }
            }
        }

        return new PaymentStatusReport(providerPaymentId, status, raw, amount, currency, orderId, transactionId, isTest);
    }

    /// <summary>
    /// The transaction that carries the money: a gateway holds one per attempt (a declined card, then a paid one), in no
    /// promised order. The last one that took money (confirmed, refunded, disputed) wins; else the last attempt.
    /// </summary>
    private static JsonElement? Settled(JsonElement transactions)
    {
        JsonElement? last = null;
        JsonElement? settled = null;
        foreach (var transaction in transactions.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.Object))
        {
            last = transaction;
            if (PayrexxStatuses.Map(Scalar(transaction, "status") ?? "") is PaymentStatus.Confirmed or PaymentStatus.Refunded
                or PaymentStatus.PartiallyRefunded or PaymentStatus.RefundPending or PaymentStatus.Disputed)
            {
                settled = transaction;
            }
        }

        return settled ?? last;
    }

    /// <inheritdoc />
    public async Task CancelCheckoutAsync(PaymentAccountCredentials account, string providerPaymentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentException.ThrowIfNullOrWhiteSpace(providerPaymentId);

        // 404: the gateway is already gone, which is what was asked.
        await _client.SendAsync(account, Method.Delete, "Gateway", providerPaymentId, null, [], notFoundIsAnswer: true, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Payrexx has no idempotency key: the POST is sent once and never retried by this client.</remarks>
    public async Task<RefundOutcome> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Payrexx has no idempotency keys: read what it has refunded so far before sending anything. When that already
        // covers this refund, an earlier attempt whose answer was lost (a timeout) made it: do not refund twice.
        var gateway = await _client.SendAsync(request.Account, Method.Get, "Gateway", request.ProviderPaymentId, null, [], notFoundIsAnswer: false, cancellationToken);
        var transactionId = request.TransactionId;
        long? refundedSoFar = null;
        if (gateway.Data is { ValueKind: JsonValueKind.Object } gatewayData)
        {
            transactionId ??= Report(request.ProviderPaymentId, gatewayData, _logger).TransactionId;
            if (gatewayData.TryGetProperty("invoices", out var invoices) && invoices.ValueKind == JsonValueKind.Array && invoices.GetArrayLength() > 0
                && long.TryParse(Scalar(invoices[0], "refundedAmount"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var refunded))
            {
                refundedSoFar = refunded;
            }
        }

        if (request.AlreadyRefunded is { } before && refundedSoFar is { } sofar && sofar >= before.Amount + request.Amount.Amount)
        {
            LogRefundAlreadyMade(_logger, request.RefundId, sofar);
            return new RefundOutcome(RefundStatus.Completed, transactionId ?? request.ProviderPaymentId);
        }

        if (string.IsNullOrWhiteSpace(transactionId))
        {
            throw new ProviderException(Name, $"Gateway {request.ProviderPaymentId} has no transaction to refund.", transient: false);
        }

        List<KeyValuePair<string, object?>> parameters = request.IsFullRefund ? [] : [new("amount", request.Amount.Amount)];
        var response = await _client.SendAsync(request.Account, Method.Post, "Transaction", transactionId, "refund", parameters, notFoundIsAnswer: false, cancellationToken);
        var raw = response.Data is { ValueKind: JsonValueKind.Object } data ? Scalar(data, "status") : null;
        var reference = response.Data is { ValueKind: JsonValueKind.Object } d2 ? Scalar(d2, "uuid") ?? Scalar(d2, "id") : null;
        var status = PayrexxStatuses.Map(raw) switch
        {
            PaymentStatus.Refunded or PaymentStatus.PartiallyRefunded => RefundStatus.Completed,
            _ => RefundStatus.Pending,
        };
        if (PayrexxStatuses.Map(raw) is not (PaymentStatus.Refunded or PaymentStatus.PartiallyRefunded or PaymentStatus.RefundPending))
        {
            LogUnknownStatus(_logger, transactionId, raw ?? "");
        }

        return new RefundOutcome(status, reference ?? transactionId);
    }

    /// <inheritdoc />
    public Task<PaymentWebhookHint?> ParseWebhookAsync(PaymentWebhookRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return cancellationToken.IsCancellationRequested
            ? Task.FromCanceled<PaymentWebhookHint?>(cancellationToken)
            : Task.FromResult(PayrexxWebhooks.Parse(request.ContentType, request.Body.Span));
    }

    /// <summary>Disposes the HTTP clients.</summary>
    public void Dispose() => _client.Dispose();

    private static string? Scalar(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.True => "1",
                JsonValueKind.False => "0",
                _ => null,
            }
            : null;

    [LoggerMessage(EventId = 4111, Level = LogLevel.Information, Message = "Payrexx gateway {GatewayId} created for order {OrderId}")]
    private static partial void LogGatewayCreated(ILogger logger, string gatewayId, Guid orderId);

    [LoggerMessage(EventId = 4113, Level = LogLevel.Warning, Message = "Refund {RefundId} was already made by an earlier attempt (Payrexx has refunded {Refunded} minor units): not sent again")]
    private static partial void LogRefundAlreadyMade(ILogger logger, Guid refundId, long refunded);

    [LoggerMessage(EventId = 4112, Level = LogLevel.Warning, Message = "Payrexx reported an unknown status '{Status}' for {PaymentId}; treated as not final")]
    private static partial void LogUnknownStatus(ILogger logger, string paymentId, string status);
}
