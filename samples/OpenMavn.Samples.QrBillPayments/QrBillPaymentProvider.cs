using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using OpenMavn.Core.Payments;
using OpenMavn.Samples.QrBillPayments.Bills;
using OpenMavn.Samples.QrBillPayments.Storage;

namespace OpenMavn.Samples.QrBillPayments;

/// <summary>
/// Swiss QR-bill payments (<c>qrbill</c>): each order gets a bill with its own QR reference, paid by bank transfer into
/// the merchant's QR-IBAN. Nothing here talks to a bank: the money is confirmed by the merchant or by importing the
/// bank's camt.054 notification (<see cref="QrBillService"/>), and refunds are recorded for the merchant to transfer.
/// </summary>
/// <remarks>
/// Merchant credentials: the account id is the merchant's QR-IBAN; the "secret" is the creditor's structured address as
/// JSON (<see cref="QrBillCreditor"/>). It is not secret, but it is the one per-merchant field Core keeps besides the
/// account id, and the bill must print it.
/// </remarks>
public sealed partial class QrBillPaymentProvider : IPaymentProvider
{
    /// <summary>The provider name.</summary>
    public const string ProviderName = "qrbill";

    /// <summary>The <c>type</c> of the notification the import raises when a bill is paid.</summary>
    internal const string PaidNotification = "qrbill.paid";

    private const int MaxWebhookBytes = 4096;

    private readonly QrBillDatabase _database;
    private readonly IOptionsMonitor<QrBillOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<QrBillPaymentProvider> _logger;

    /// <summary>Creates the provider.</summary>
    internal QrBillPaymentProvider(QrBillDatabase database, IOptionsMonitor<QrBillOptions> options, TimeProvider time, ILogger<QrBillPaymentProvider> logger)
    {
        _database = database;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <inheritdoc />
    public string Name => ProviderName;

    /// <summary>False: a bank transfer is never a test payment, and none is ever reported as one.</summary>
    public bool AcceptsTestPayments => false;

    /// <summary>Checks that the account id is a QR-IBAN and the secret a complete creditor address; no network call.</summary>
    public Task VerifyAccountAsync(PaymentAccountCredentials account, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        if (cancellationToken.IsCancellationRequested)
        {
            // No I/O here, but Core cancels on shutdown and aborted requests: a cancelled call does nothing.
            return Task.FromCanceled(cancellationToken);
        }

        _ = Creditor(account);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Deduplicates by order id: the same order always gets the same bill (and the same reference), whatever the amount
    /// of the repeated request. The reference is the bill's number from this provider's database (with the configured
    /// prefix) plus a check digit: an order id has 122 significant bits and a QR reference room for 86, so no
    /// reference can be computed from the order id alone without collisions; the database's counter is unique instead.
    /// </remarks>
    public async Task<CheckoutSession> CreateCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (iban, creditor) = Creditor(request.Account);
        var currency = request.Amount.Currency?.ToUpperInvariant();
        if (currency is not ("CHF" or "EUR"))
        {
            throw new ProviderException(Name, "A QR-bill is in CHF or EUR.", transient: false);
        }

        if (request.Amount.Amount is < 1 or > SwissPaymentsCode.MaxAmount)
        {
            throw new ProviderException(Name, "A QR-bill amount lies between 0.01 and 999999999.99.", transient: false);
        }

        await using var db = await _database.OpenAsync(cancellationToken);
        var bill = await db.Bills.AsNoTracking().FirstOrDefaultAsync(b => b.OrderId == request.OrderId, cancellationToken);
        if (bill is null)
        {
            try
            {
                bill = await InsertAsync(db, request, iban, creditor, currency, cancellationToken);
                LogBillCreated(_logger, bill.Id, request.OrderId);
            }
            catch (DbUpdateException)
            {
                // The same order's checkout was created beside this one: that bill is the order's bill.
                db.ChangeTracker.Clear();
                bill = await db.Bills.AsNoTracking().FirstAsync(b => b.OrderId == request.OrderId, cancellationToken);
            }
        }

        return new CheckoutSession(bill.Id, BillUrl(bill.Id));
    }

    private async Task<QrBillRecord> InsertAsync(QrBillDbContext db, CheckoutRequest request, string iban, QrBillCreditor creditor, string currency, CancellationToken cancellationToken)
    {
        var id = "qrb_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var purpose = SwissPaymentsCode.Sanitize(request.Purpose, 140);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var bill = new QrBillRecord
        {
            Id = id,
            OrderId = request.OrderId,
            CreditorIban = iban,
            CreditorJson = creditor.ToJson(),
            Reference = "pending:" + id, // unique until the number is known
            Amount = request.Amount.Amount,
            Currency = currency,
            Purpose = purpose,
            Status = QrBillStatus.Open,
            CreatedAt = _time.GetUtcNow(),
        };
        db.Bills.Add(bill);
        await db.SaveChangesAsync(cancellationToken);
        bill.Reference = QrReference.Create(_options.CurrentValue.ReferencePrefix, bill.Number);
        bill.Payload = SwissPaymentsCode.Build(iban, creditor, bill.Amount, currency, bill.Reference, purpose);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return bill;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Pending while payments do not cover the bill; Confirmed (with the covering payment's bank reference as the
    /// transaction id, and the bill's amount even after an overpayment) once they do; RefundPending while a refund
    /// waits for the merchant, then PartiallyRefunded or Refunded; Cancelled for a bill cancelled unpaid. A bill is
    /// only shown to the account (QR-IBAN) it was made for.
    /// </remarks>
    public async Task<PaymentStatusReport> GetPaymentAsync(PaymentAccountCredentials account, string providerPaymentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentException.ThrowIfNullOrWhiteSpace(providerPaymentId);
        await using var db = await _database.OpenAsync(cancellationToken);
        var bill = await db.Bills.AsNoTracking().FirstOrDefaultAsync(b => b.Id == providerPaymentId, cancellationToken);
        if (bill is null || bill.CreditorIban != Iban.Compact(account.AccountId))
        {
            throw new ProviderException(Name, $"Unknown bill {providerPaymentId}.", transient: false);
        }

        var (status, raw) = Status(bill);
        return new PaymentStatusReport(bill.Id, status, raw, bill.Amount, bill.Currency, bill.OrderId, bill.Status == QrBillStatus.Paid ? bill.BankReference : null, IsTest: false);
    }

    internal static (PaymentStatus Status, string Raw) Status(QrBillRecord bill) => bill.Status switch
    {
        QrBillStatus.Open when bill.PaidAmount > 0 => (PaymentStatus.Pending, "partially_paid"),
        QrBillStatus.Open => (PaymentStatus.Pending, "open"),
        QrBillStatus.Cancelled => (PaymentStatus.Cancelled, "cancelled"),
        _ when bill.RefundRecorded > bill.RefundCompleted => (PaymentStatus.RefundPending, "refund_pending"),
        _ when bill.RefundCompleted >= bill.Amount => (PaymentStatus.Refunded, "refunded"),
        _ when bill.RefundCompleted > 0 => (PaymentStatus.PartiallyRefunded, "partially_refunded"),
        _ => (PaymentStatus.Confirmed, "paid"),
    };

    /// <inheritdoc />
    /// <remarks>
    /// An open bill becomes Cancelled (a partial payment already on it is then the merchant's to return); a paid,
    /// cancelled or unknown bill, or one of another account, is left alone: that is success too.
    /// </remarks>
    public async Task CancelCheckoutAsync(PaymentAccountCredentials account, string providerPaymentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        ArgumentException.ThrowIfNullOrWhiteSpace(providerPaymentId);
        var iban = Iban.Compact(account.AccountId);
        var now = _time.GetUtcNow();
        await using var db = await _database.OpenAsync(cancellationToken);
        var rows = await db.Bills.Where(b => b.Id == providerPaymentId && b.CreditorIban == iban && b.Status == QrBillStatus.Open)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.Status, QrBillStatus.Cancelled).SetProperty(b => b.CancelledAt, now), cancellationToken);
        if (rows == 1)
        {
            LogBillCancelled(_logger, providerPaymentId);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// A bank transfer back cannot be made from here: the refund is recorded as Pending for the merchant to execute and
    /// mark done (<see cref="QrBillService.CompleteRefundAsync"/>). Idempotent per refund id; the refunds of a bill never
    /// exceed its amount (an overpayment's excess is reported separately, not refunded through Core).
    /// </remarks>
    public async Task<RefundOutcome> RefundAsync(RefundRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var reference = RefundReference(request.RefundId);
        await using var db = await _database.OpenAsync(cancellationToken);
        var existing = await db.Refunds.AsNoTracking().FirstOrDefaultAsync(r => r.Id == request.RefundId, cancellationToken);
        if (existing is not null)
        {
            return new RefundOutcome(existing.Status == QrBillRefundStatus.Completed ? RefundStatus.Completed : RefundStatus.Pending, reference);
        }

        var iban = Iban.Compact(request.Account.AccountId);
        var bill = await db.Bills.AsNoTracking().FirstOrDefaultAsync(b => b.Id == request.ProviderPaymentId && b.CreditorIban == iban, cancellationToken)
            ?? throw new ProviderException(Name, $"Unknown bill {request.ProviderPaymentId}.", transient: false);
        if (bill.Status != QrBillStatus.Paid)
        {
            throw new ProviderException(Name, $"Bill {bill.Id} is {bill.Status} and cannot be refunded.", transient: false);
        }

        if (!string.Equals(request.Amount.Currency, bill.Currency, StringComparison.OrdinalIgnoreCase))
        {
            throw new ProviderException(Name, $"Bill {bill.Id} was paid in {bill.Currency}.", transient: false);
        }

        var amount = request.Amount.Amount;
        if (amount <= 0 || bill.RefundRecorded + amount > bill.Amount)
        {
            throw new ProviderException(Name, "The refund exceeds what is left of the payment.", transient: false);
        }

        // The guarded update takes SQLite's write lock first and re-checks the balance, so refunds of one bill recorded
        // side by side never add up to more than was paid.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var rows = await db.Bills.Where(b => b.Id == bill.Id && b.Status == QrBillStatus.Paid && b.RefundRecorded + amount <= b.Amount)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.RefundRecorded, b => b.RefundRecorded + amount), cancellationToken);
        if (rows == 0)
        {
            throw new ProviderException(Name, "The refund exceeds what is left of the payment.", transient: false);
        }

        db.Refunds.Add(new QrBillRefundRecord
        {
            Id = request.RefundId,
            BillId = bill.Id,
            Amount = amount,
            Currency = bill.Currency,
            Status = QrBillRefundStatus.Pending,
            CreatedAt = _time.GetUtcNow(),
        });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogRefundRecorded(_logger, request.RefundId, bill.Id, amount);
        return new RefundOutcome(RefundStatus.Pending, reference);
    }

    /// <summary>
    /// Reads the notification <see cref="QrBillService"/> raises when a bill is paid:
    /// <c>{"type":"qrbill.paid","billId":"qrb_…","orderId":"…"}</c>. Anything else names no payment (null). Anyone may
    /// post this body to <c>/webhooks/payments/qrbill</c>: it is only a hint, and Core re-reads the bill.
    /// </summary>
    public Task<PaymentWebhookHint?> ParseWebhookAsync(PaymentWebhookRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return cancellationToken.IsCancellationRequested
            ? Task.FromCanceled<PaymentWebhookHint?>(cancellationToken)
            : Task.FromResult(ParseNotification(request.Body.Span));
    }

    internal static PaymentWebhookHint? ParseNotification(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty || body.Length > MaxWebhookBytes)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != PaidNotification
                || !root.TryGetProperty("billId", out var billId) || billId.ValueKind != JsonValueKind.String || !IsBillId(billId.GetString()))
            {
                return null;
            }

            Guid? orderId = root.TryGetProperty("orderId", out var o) && o.ValueKind == JsonValueKind.String && Guid.TryParse(o.GetString(), out var parsed) ? parsed : null;
            return new PaymentWebhookHint(billId.GetString(), orderId, $"{billId.GetString()}:{PaidNotification}");
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static byte[] Notification(string billId, Guid orderId) =>
        JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["type"] = PaidNotification, ["billId"] = billId, ["orderId"] = orderId.ToString() });

    internal static bool IsBillId(string? id) =>
        id is { Length: 28 } && id.StartsWith("qrb_", StringComparison.Ordinal) && id.AsSpan(4).ToString().All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    internal static string RefundReference(Guid refundId) => "qrbr_" + refundId.ToString("N");

    internal Uri BillUrl(string billId) => new(new Uri(_options.CurrentValue.BillBaseUrl), billId);

    private (string Iban, QrBillCreditor Creditor) Creditor(PaymentAccountCredentials account)
    {
        if (!Iban.IsQrIban(account.AccountId))
        {
            throw new ProviderException(Name, "The account id must be the merchant's QR-IBAN (CH or LI, institution id 30000–31999).", transient: false);
        }

        var creditor = QrBillCreditor.FromJson(account.Secret)
            ?? throw new ProviderException(Name, """The secret must be the creditor address as JSON: {"name":…,"street":…,"buildingNumber":…,"postalCode":…,"town":…,"country":"CH"}.""", transient: false);
        if (creditor.Problems() is { Count: > 0 } problems)
        {
            throw new ProviderException(Name, "Creditor address: " + string.Join("; ", problems) + ".", transient: false);
        }

        return (Iban.Compact(account.AccountId), creditor);
    }

    [LoggerMessage(EventId = 4201, Level = LogLevel.Information, Message = "QR-bill {BillId} created for order {OrderId}")]
    private static partial void LogBillCreated(ILogger logger, string billId, Guid orderId);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Information, Message = "QR-bill {BillId} cancelled")]
    private static partial void LogBillCancelled(ILogger logger, string billId);

    [LoggerMessage(EventId = 4203, Level = LogLevel.Information, Message = "Refund {RefundId} of QR-bill {BillId} ({Amount} minor units) recorded for the merchant to transfer")]
    private static partial void LogRefundRecorded(ILogger logger, Guid refundId, string billId, long amount);
}
