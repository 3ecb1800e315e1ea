using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Payments;
using OpenMavn.Samples.QrBillPayments.Bills;
using OpenMavn.Samples.QrBillPayments.Receipts;
using OpenMavn.Samples.QrBillPayments.Storage;

namespace OpenMavn.Samples.QrBillPayments;

/// <summary>A bill as a host shows it to the customer.</summary>
/// <param name="Id">Bill id (<c>qrb_…</c>).</param>
/// <param name="OrderId">The order.</param>
/// <param name="Reference">QR reference, 27 digits.</param>
/// <param name="FormattedReference">The reference as printed (<c>21 00000 00003 13947 14300 09017</c>).</param>
/// <param name="Iban">The creditor's QR-IBAN.</param>
/// <param name="Creditor">The creditor's address.</param>
/// <param name="Amount">Amount due.</param>
/// <param name="Purpose">Unstructured message.</param>
/// <param name="Status">Open, paid or cancelled.</param>
/// <param name="Paid">Applied so far.</param>
/// <param name="Payload">The Swiss Payments Code text inside the QR code.</param>
public sealed record QrBillView(string Id, Guid OrderId, string Reference, string FormattedReference, string Iban, QrBillCreditor Creditor, Money Amount, string Purpose, QrBillStatus Status, Money Paid, string Payload)
{
    /// <summary>The QR code with the Swiss cross, as SVG.</summary>
    public string Svg() => QrBillImage.Svg(Payload);
}

/// <summary>One received payment and what became of it.</summary>
/// <param name="BankReference">The bank's reference (or <c>merchant:…</c> for a confirmation by hand).</param>
/// <param name="Reference">The creditor reference the payer gave, as written.</param>
/// <param name="Amount">Amount received.</param>
/// <param name="Outcome">What it did.</param>
/// <param name="Duplicate">True when this very payment was recorded before (an import repeated): nothing changed now.</param>
/// <param name="BillId">The matched bill.</param>
/// <param name="OrderId">The matched bill's order.</param>
/// <param name="Note">For the merchant: what to do, e.g. the excess to return.</param>
public sealed record QrBillReceiptLine(string BankReference, string? Reference, Money Amount, QrBillReceiptOutcome Outcome, bool Duplicate, string? BillId, Guid? OrderId, string? Note)
{
    /// <summary>True when the merchant must act (return money or find the payer).</summary>
    public bool NeedsAction => !Duplicate && Outcome is QrBillReceiptOutcome.UnknownReference or QrBillReceiptOutcome.PaidAfterCancellation
        or QrBillReceiptOutcome.PaidTwice or QrBillReceiptOutcome.WrongCurrency or QrBillReceiptOutcome.Overpaid;
}

/// <summary>The result of a camt.054 import.</summary>
/// <param name="MessageId">The document's message id.</param>
/// <param name="Version">Its version.</param>
/// <param name="Lines">One line per booked credit.</param>
/// <param name="Skipped">Debits and unbooked entries left out.</param>
public sealed record QrBillImportReport(string MessageId, string Version, IReadOnlyList<QrBillReceiptLine> Lines, int Skipped)
{
    /// <summary>Bills that became paid.</summary>
    public int BillsPaid => Lines.Count(l => !l.Duplicate && l.Outcome is QrBillReceiptOutcome.Paid or QrBillReceiptOutcome.Overpaid);

    /// <summary>Transactions already imported before.</summary>
    public int Duplicates => Lines.Count(l => l.Duplicate);

    /// <summary>Lines the merchant must look at.</summary>
    public int NeedingAction => Lines.Count(l => l.NeedsAction);
}

/// <summary>A refund recorded for the merchant to transfer.</summary>
/// <param name="RefundId">Core's refund id.</param>
/// <param name="BillId">Bill.</param>
/// <param name="OrderId">Order.</param>
/// <param name="Amount">Amount to return.</param>
/// <param name="Status">Pending or completed.</param>
/// <param name="CreatedAt">Recorded.</param>
/// <param name="CompletedAt">Marked done.</param>
public sealed record QrBillRefundView(Guid RefundId, string BillId, Guid OrderId, Money Amount, QrBillRefundStatus Status, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt);

/// <summary>
/// The merchant's side of QR-bill payments: bills for display, payments confirmed by hand or imported from camt.054,
/// refunds to execute. Every merchant operation is scoped to the merchant's own QR-IBAN and allowed to the merchant's
/// owners and platform operators only (staff and API keys are refused): confirming money is an owner's decision.
/// When a bill becomes paid, Core is told through its public webhook path (<see cref="PurchaseService.QueueWebhookAsync"/>)
/// and verifies the bill with <see cref="QrBillPaymentProvider.GetPaymentAsync"/>.
/// </summary>
public sealed partial class QrBillService
{
    private static readonly Dictionary<string, string> NoHeaders = new(StringComparer.OrdinalIgnoreCase);
    private readonly QrBillDatabase _database;
    private readonly MerchantService _merchants;
    private readonly PurchaseService _purchases;
    private readonly IOptionsMonitor<QrBillOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<QrBillService> _logger;

    internal QrBillService(QrBillDatabase database, MerchantService merchants, PurchaseService purchases, IOptionsMonitor<QrBillOptions> options, TimeProvider time, ILogger<QrBillService> logger)
    {
        _database = database;
        _merchants = merchants;
        _purchases = purchases;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// A bill for display, by id; null when there is none. Anyone holding the checkout link may see it (the id is 96
    /// random bits, like a payment page's address); it shows what the printed bill would.
    /// </summary>
    public async Task<QrBillView?> GetBillAsync(string billId, CancellationToken cancellationToken = default)
    {
        if (!QrBillPaymentProvider.IsBillId(billId))
        {
            return null;
        }

        await using var db = await _database.OpenAsync(cancellationToken);
        var bill = await db.Bills.AsNoTracking().FirstOrDefaultAsync(b => b.Id == billId, cancellationToken);
        return bill is null ? null : View(bill);
    }

    /// <summary>
    /// Imports a camt.054 notification from the merchant's bank: each booked credit with a QR reference of one of the
    /// merchant's bills is applied (partial payments add up; a bill is paid once they cover it; an excess is noted);
    /// unknown references, payments on cancelled or already paid bills and wrong currencies are recorded and reported,
    /// never lost; a transaction imported twice counts once. Owners and operators.
    /// </summary>
    public async Task<QrBillImportReport> ImportCamt054Async(Actor actor, Guid merchantId, Stream camt054, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(camt054);
        var iban = await AccountAsync(actor, merchantId, cancellationToken);
        var document = await Camt054Reader.ReadAsync(camt054, _options.CurrentValue.MaxImportBytes, cancellationToken);
        var lines = new List<QrBillReceiptLine>(document.Credits.Count);
        await using (var db = await _database.OpenAsync(cancellationToken))
        {
            // One write transaction (SQLite's BEGIN IMMEDIATE) for the whole file: imports never interleave, and a file
            // is applied completely or not at all.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            foreach (var credit in document.Credits)
            {
                lines.Add(await ApplyAsync(db, iban, credit, QrBillReceiptSource.Camt054, actor.ToString(), cancellationToken));
            }

            await transaction.CommitAsync(cancellationToken);
        }

        LogImported(_logger, document.MessageId, merchantId, lines.Count, lines.Count(l => l.Duplicate));
        await NotifyCoreAsync(cancellationToken);
        return new QrBillImportReport(document.MessageId, document.Version, lines, document.Skipped);
    }

    /// <summary>
    /// The merchant confirms by hand that a payment reached its account (seen in e-banking). <paramref name="confirmationId"/>
    /// makes the call idempotent (use the bank's booking reference if you have it). A later camt.054 import of the same
    /// payment (same bill, same amount) is recognised and not counted again. Owners and operators.
    /// </summary>
    public async Task<QrBillReceiptLine> ConfirmReceiptAsync(Actor actor, Guid merchantId, string reference, Money amount, string confirmationId, CancellationToken cancellationToken = default)
    {
        var iban = await AccountAsync(actor, merchantId, cancellationToken);
        new Validator()
            .Check(QrReference.Normalize(reference) is null, "reference", "A QR reference of 27 digits with a valid check digit.")
            .Check(amount.Amount is < 1 or > SwissPaymentsCode.MaxAmount || amount.Currency is not ("CHF" or "EUR"), "amount", "A positive amount in CHF or EUR.")
            .Check(string.IsNullOrWhiteSpace(confirmationId) || confirmationId.Length > 100, "confirmationId", "1 to 100 characters.")
            .ThrowIfInvalid();
        var key = "merchant:" + confirmationId.Trim();
        var credit = new Camt054Credit(iban, key, key, QrReference.Normalize(reference), reference, amount.Amount, amount.Currency, DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime));
        QrBillReceiptLine line;
        await using (var db = await _database.OpenAsync(cancellationToken))
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            line = await ApplyAsync(db, iban, credit, QrBillReceiptSource.Merchant, actor.ToString(), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        await NotifyCoreAsync(cancellationToken);
        return line;
    }

    /// <summary>Received payments the merchant must act on (return money, find the payer). Owners and operators.</summary>
    public async Task<IReadOnlyList<QrBillReceiptLine>> ListReceiptsNeedingActionAsync(Actor actor, Guid merchantId, CancellationToken cancellationToken = default)
    {
        var iban = await AccountAsync(actor, merchantId, cancellationToken);
        await using var db = await _database.OpenAsync(cancellationToken);
        var receipts = await db.Receipts.AsNoTracking()
            .Where(r => r.CreditorIban == iban && (r.Outcome == QrBillReceiptOutcome.UnknownReference || r.Outcome == QrBillReceiptOutcome.PaidAfterCancellation
                || r.Outcome == QrBillReceiptOutcome.PaidTwice || r.Outcome == QrBillReceiptOutcome.WrongCurrency || r.Outcome == QrBillReceiptOutcome.Overpaid))
            .OrderBy(r => r.Id).Take(1000).ToListAsync(cancellationToken);
        var billIds = receipts.Where(r => r.BillId != null).Select(r => r.BillId!).Distinct().ToList();
        var orders = await db.Bills.AsNoTracking().Where(b => billIds.Contains(b.Id)).ToDictionaryAsync(b => b.Id, b => b.OrderId, cancellationToken);
        return receipts.Select(r => new QrBillReceiptLine(r.BankReference, r.Reference, new Money(r.Amount, r.Currency), r.Outcome, false, r.BillId, r.BillId is { } id && orders.TryGetValue(id, out var o) ? o : null, r.Note)).ToList();
    }

    /// <summary>The merchant's refunds (pending only, by default), oldest first. Owners and operators.</summary>
    public async Task<IReadOnlyList<QrBillRefundView>> ListRefundsAsync(Actor actor, Guid merchantId, bool pendingOnly = true, CancellationToken cancellationToken = default)
    {
        var iban = await AccountAsync(actor, merchantId, cancellationToken);
        await using var db = await _database.OpenAsync(cancellationToken);
        var refunds = await db.Refunds.AsNoTracking()
            .Join(db.Bills.AsNoTracking().Where(b => b.CreditorIban == iban), r => r.BillId, b => b.Id, (r, b) => new { Refund = r, b.OrderId })
            .Where(x => !pendingOnly || x.Refund.Status == QrBillRefundStatus.Pending)
            .Take(1000).ToListAsync(cancellationToken);
        return refunds.OrderBy(x => x.Refund.CreatedAt).Select(x => View(x.Refund, x.OrderId)).ToList();
    }

    /// <summary>
    /// The merchant has transferred a refund back: it becomes Completed, and once no refund of the bill is pending the
    /// payment reads PartiallyRefunded or Refunded, which Core's refund job picks up. Idempotent. Owners and operators.
    /// </summary>
    public async Task<QrBillRefundView> CompleteRefundAsync(Actor actor, Guid merchantId, Guid refundId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var iban = await AccountAsync(actor, merchantId, cancellationToken);
        await using var db = await _database.OpenAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var refund = await db.Refunds.FirstOrDefaultAsync(r => r.Id == refundId, cancellationToken);
        var bill = refund is null ? null : await db.Bills.FirstOrDefaultAsync(b => b.Id == refund.BillId && b.CreditorIban == iban, cancellationToken);
        if (refund is null || bill is null)
        {
            throw new NotFoundException("qrbill.refund_not_found", "No such refund for this merchant.");
        }

        if (refund.Status == QrBillRefundStatus.Pending)
        {
            refund.Status = QrBillRefundStatus.Completed;
            refund.CompletedAt = _time.GetUtcNow();
            refund.CompletedBy = actor.ToString();
            bill.RefundCompleted += refund.Amount;
            await db.SaveChangesAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return View(refund, bill.OrderId);
    }

    /// <summary>
    /// Tells Core about bills that became paid and have not been announced yet (an earlier attempt failed). Imports and
    /// confirmations call it; a host may call it from a timer too. Core's polling job is the last safety net: it reads
    /// unconfirmed orders after <c>Jobs:PaymentPollDelay</c>, and orders that lapsed within the last day.
    /// </summary>
    public async Task<int> NotifyCoreAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await _database.OpenAsync(cancellationToken);
        var due = await db.Bills.AsNoTracking().Where(b => b.NotifyCore).OrderBy(b => b.Number).Take(200).Select(b => new { b.Id, b.OrderId }).ToListAsync(cancellationToken);
        var told = 0;
        foreach (var bill in due)
        {
            try
            {
                // The same path a provider's webhook takes: parsed by ParseWebhookAsync, queued in Core's outbox (a
                // repeat is dropped by its dedupe key), then verified with GetPaymentAsync in the background.
                var body = QrBillPaymentProvider.Notification(bill.Id, bill.OrderId);
                await _purchases.QueueWebhookAsync(QrBillPaymentProvider.ProviderName, new PaymentWebhookRequest("application/json", body, NoHeaders), cancellationToken);
                await db.Bills.Where(b => b.Id == bill.Id).ExecuteUpdateAsync(s => s.SetProperty(b => b.NotifyCore, false), cancellationToken);
                told++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Stays flagged for the next call; Core's polling also finds the order.
                LogNotifyFailed(_logger, bill.Id, ex.Message);
            }
        }

        return told;
    }

    private async Task<QrBillReceiptLine> ApplyAsync(QrBillDbContext db, string iban, Camt054Credit credit, QrBillReceiptSource source, string recordedBy, CancellationToken cancellationToken)
    {
        var money = new Money(credit.Amount, credit.Currency);
        var earlier = await db.Receipts.AsNoTracking().FirstOrDefaultAsync(r => r.CreditorIban == iban && r.DedupeKey == credit.DedupeKey, cancellationToken);
        if (earlier is not null)
        {
            var earlierBill = earlier.BillId is null ? null : await db.Bills.AsNoTracking().FirstOrDefaultAsync(b => b.Id == earlier.BillId, cancellationToken);
            return new QrBillReceiptLine(earlier.BankReference, earlier.Reference, new Money(earlier.Amount, earlier.Currency), earlier.Outcome, true, earlier.BillId, earlierBill?.OrderId, earlier.Note);
        }

        var receipt = new QrBillReceiptRecord
        {
            CreditorIban = iban,
            DedupeKey = credit.DedupeKey,
            Source = source,
            Reference = credit.RawReference,
            Amount = credit.Amount,
            Currency = credit.Currency,
            BankReference = credit.BankReference,
            BookedOn = credit.BookedOn,
            RecordedBy = recordedBy,
            RecordedAt = _time.GetUtcNow(),
        };
        db.Receipts.Add(receipt);
        var bill = credit.Reference is null ? null : await db.Bills.FirstOrDefaultAsync(b => b.Reference == credit.Reference && b.CreditorIban == iban, cancellationToken);
        receipt.BillId = bill?.Id;

        // The bank's record of a payment the merchant already confirmed by hand (same bill, same amount) is matched to
        // that confirmation rather than counted twice.
        var confirmed = bill is null || source != QrBillReceiptSource.Camt054 ? null
            : await db.Receipts.Where(r => r.BillId == bill.Id && r.CreditorIban == iban && r.Source == QrBillReceiptSource.Merchant && !r.Reconciled && r.Amount == credit.Amount
                    && (r.Outcome == QrBillReceiptOutcome.Paid || r.Outcome == QrBillReceiptOutcome.PartiallyPaid || r.Outcome == QrBillReceiptOutcome.Overpaid))
                .OrderBy(r => r.Id).FirstOrDefaultAsync(cancellationToken);
        (receipt.Outcome, receipt.Note) = Decide(bill, credit, confirmed is not null && bill!.Currency == credit.Currency ? confirmed : null);
        await db.SaveChangesAsync(cancellationToken);
        if (receipt.Outcome is QrBillReceiptOutcome.Paid or QrBillReceiptOutcome.Overpaid)
        {
            LogBillPaid(_logger, bill!.Id, bill.OrderId, receipt.BankReference);
        }

        return new QrBillReceiptLine(receipt.BankReference, receipt.Reference, money, receipt.Outcome, false, bill?.Id, bill?.OrderId, receipt.Note);
    }

    private (QrBillReceiptOutcome Outcome, string? Note) Decide(QrBillRecord? bill, Camt054Credit credit, QrBillReceiptRecord? confirmed)
    {
        if (bill is null)
        {
            return (QrBillReceiptOutcome.UnknownReference, credit.Reference is null
                ? "No valid QR reference: find the payer and apply or return the money."
                : "No bill of this account has this reference: find the payer and apply or return the money.");
        }

        if (!string.Equals(credit.Currency, bill.Currency, StringComparison.Ordinal))
        {
            return (QrBillReceiptOutcome.WrongCurrency, $"Paid in {credit.Currency}, the bill is in {bill.Currency}: return the money.");
        }

        if (confirmed is not null)
        {
            confirmed.Reconciled = true;
            return (QrBillReceiptOutcome.Reconciled, $"Matches the confirmation {confirmed.BankReference}.");
        }

        var open = bill.Status == QrBillStatus.Open || (bill.Status == QrBillStatus.Cancelled && _options.CurrentValue.ApplyPaymentsAfterCancellation);
        if (bill.Status == QrBillStatus.Cancelled && !open)
        {
            return (QrBillReceiptOutcome.PaidAfterCancellation, "The bill was cancelled (the order lapsed) before this payment: return the money.");
        }

        if (!open)
        {
            return (QrBillReceiptOutcome.PaidTwice, "The bill was already paid: return this payment.");
        }

        bill.PaidAmount += credit.Amount;
        if (bill.PaidAmount < bill.Amount)
        {
            return (QrBillReceiptOutcome.PartiallyPaid, $"{SwissPaymentsCode.FormatAmount(bill.PaidAmount)} of {SwissPaymentsCode.FormatAmount(bill.Amount)} {bill.Currency} paid.");
        }

        bill.Status = QrBillStatus.Paid;
        bill.PaidAt = _time.GetUtcNow();
        bill.BankReference = credit.BankReference;
        bill.NotifyCore = true;
        var excess = bill.PaidAmount - bill.Amount;
        return excess > 0
            ? (QrBillReceiptOutcome.Overpaid, $"Paid {SwissPaymentsCode.FormatAmount(excess)} {bill.Currency} more than due: return the excess.")
            : (QrBillReceiptOutcome.Paid, null);
    }

    private async Task<string> AccountAsync(Actor actor, Guid merchantId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await _merchants.EnsureAccessAsync(actor, merchantId, MerchantRole.Owner, cancellationToken);
        var merchant = await _merchants.GetAsync(actor, merchantId, cancellationToken);
        if (merchant.PaymentAccount is not { } account || !string.Equals(account.Provider, QrBillPaymentProvider.ProviderName, StringComparison.OrdinalIgnoreCase))
        {
            throw new ConflictException("qrbill.no_account", "This merchant takes no QR-bill payments.");
        }

        return Iban.Compact(account.AccountId);
    }

    private static QrBillView View(QrBillRecord bill) =>
        new(bill.Id, bill.OrderId, bill.Reference, QrReference.Format(bill.Reference), bill.CreditorIban, QrBillCreditor.FromJson(bill.CreditorJson)!,
            new Money(bill.Amount, bill.Currency), bill.Purpose, bill.Status, new Money(bill.PaidAmount, bill.Currency), bill.Payload);

    private static QrBillRefundView View(QrBillRefundRecord refund, Guid orderId) =>
        new(refund.Id, refund.BillId, orderId, new Money(refund.Amount, refund.Currency), refund.Status, refund.CreatedAt, refund.CompletedAt);

    [LoggerMessage(EventId = 4211, Level = LogLevel.Information, Message = "camt.054 {MessageId} imported for merchant {MerchantId}: {Lines} credits, {Duplicates} seen before")]
    private static partial void LogImported(ILogger logger, string messageId, Guid merchantId, int lines, int duplicates);

    [LoggerMessage(EventId = 4212, Level = LogLevel.Information, Message = "QR-bill {BillId} of order {OrderId} paid (bank reference {BankReference})")]
    private static partial void LogBillPaid(ILogger logger, string billId, Guid orderId, string bankReference);

    [LoggerMessage(EventId = 4213, Level = LogLevel.Warning, Message = "Telling Core that QR-bill {BillId} is paid failed; retried on the next import: {Reason}")]
    private static partial void LogNotifyFailed(ILogger logger, string billId, string reason);
}
