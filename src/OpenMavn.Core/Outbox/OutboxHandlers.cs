using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Outbox;

/// <summary>Writes a voucher event to the <see cref="IVoucherLedger"/> and stores its receipt.</summary>
internal sealed class LedgerOutboxHandler(OpenMavnDbContext db, IVoucherLedger ledger, TimeProvider time) : IOutboxHandler
{
    public string Type => OutboxTypes.LedgerRecord;

    public async Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var ledgerEvent = JsonSerializer.Deserialize<LedgerEvent>(message.Payload, OutboxWriter.Json)!;
        var result = (await ledger.RecordAsync([ledgerEvent], cancellationToken)).Single();
        var receipt = await db.LedgerReceipts.FirstOrDefaultAsync(r => r.EventId == ledgerEvent.EventId, cancellationToken);
        if (receipt is null)
        {
            receipt = new LedgerReceipt { EventId = ledgerEvent.EventId, VoucherId = ledgerEvent.VoucherId, Kind = ledgerEvent.Kind };
            db.LedgerReceipts.Add(receipt);
        }
        else if (receipt.Status != LedgerReceiptStatus.Pending && receipt.Ledger == ledger.Name && result.Status == LedgerReceiptStatus.Pending)
        {
            // A redelivered message found the write still in flight, but the receipt refresh already saw it final:
            // a receipt never goes back to pending.
            return;
        }

        receipt.Ledger = ledger.Name;
        receipt.Status = result.Status;
        receipt.TransactionReference = result.TransactionReference;
        receipt.Position = result.Position;
        receipt.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
    }
}

/// <summary>Hands a notification to the sender of its channel.</summary>
internal sealed class NotificationOutboxHandler(IEnumerable<INotificationSender> senders) : IOutboxHandler
{
    public string Type => OutboxTypes.Notification;

    public async Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var envelope = JsonSerializer.Deserialize<NotificationEnvelope>(message.Payload, OutboxWriter.Json)!;
        var sender = senders.LastOrDefault(s => s.Channel == envelope.Channel)
            ?? throw new ProviderException("notifications", $"No sender for channel '{envelope.Channel}' is registered any more.", transient: false);
        await sender.SendAsync(envelope.Message, cancellationToken);
    }
}

/// <summary>Performs a refund with the payment provider and records the outcome.</summary>
internal sealed class RefundOutboxHandler(OpenMavnDbContext db, PurchaseService purchases, OutboxWriter outbox, TimeProvider time) : IOutboxHandler
{
    public string Type => OutboxTypes.PaymentRefund;

    public async Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.Deserialize<RefundPayload>(message.Payload, OutboxWriter.Json)!;
        var refund = await db.Refunds.AsNoTracking().FirstAsync(r => r.Id == payload.RefundId, cancellationToken);
        if (refund.Status is RefundStatus.Completed or RefundStatus.Failed)
        {
            return;
        }

        var order = await db.Orders.AsNoTracking().FirstAsync(o => o.Id == refund.OrderId, cancellationToken);
        var (provider, credentials) = await purchases.ProviderForAsync(order.MerchantId, order.PaymentProvider!, cancellationToken);
        var alreadyRefunded = await db.Refunds.Where(r => r.OrderId == order.Id && r.Id != refund.Id && (r.Status == RefundStatus.Completed || r.Status == RefundStatus.Pending))
            .SumAsync(r => r.Amount, cancellationToken);
        RefundOutcome outcome;
        try
        {
            outcome = await provider.RefundAsync(
                new RefundRequest(refund.Id, credentials, order.ProviderPaymentId!, order.ProviderTransactionId, new Money(refund.Amount, refund.Currency), refund.Amount == order.Amount, new Money(alreadyRefunded, refund.Currency)),
                cancellationToken);
        }
        catch (ProviderException ex) when (!ex.IsTransient)
        {
            await db.Refunds.Where(r => r.Id == refund.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, RefundStatus.Failed).SetProperty(r => r.LastError, ex.Message).SetProperty(r => r.ClosedAt, time.GetUtcNow()), cancellationToken);
            throw;
        }

        await db.InTransactionAsync(
            async ct =>
            {
                var tracked = await db.Refunds.FirstAsync(r => r.Id == refund.Id, ct);
                tracked.Status = outcome.Status;
                tracked.ProviderReference = outcome.ProviderReference;
                if (outcome.Status == RefundStatus.Completed)
                {
                    tracked.ClosedAt = time.GetUtcNow();
                    if (refund.VoucherId is null)
                    {
                        await db.Orders.Where(o => o.Id == order.Id && o.Status == OrderStatus.RefundPending)
                            .ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, OrderStatus.Refunded).SetProperty(o => o.Version, o => o.Version + 1), ct);
                    }

                    await VoucherService.NotifyRefundCompletedAsync(db, outbox, tracked, order.CustomerId, ct);
                }
            },
            cancellationToken);
    }
}

/// <summary>Cancels the checkout of an order whose reservation lapsed.</summary>
internal sealed class CancelCheckoutOutboxHandler(PurchaseService purchases) : IOutboxHandler
{
    public string Type => OutboxTypes.PaymentCancelCheckout;

    public async Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.Deserialize<CancelCheckoutPayload>(message.Payload, OutboxWriter.Json)!;
        var (provider, credentials) = await purchases.ProviderForAsync(payload.MerchantId, payload.Provider, cancellationToken);
        await provider.CancelCheckoutAsync(credentials, payload.ProviderPaymentId, cancellationToken);
    }
}

/// <summary>Verifies a queued webhook hint with the provider and applies it.</summary>
internal sealed class WebhookOutboxHandler(PurchaseService purchases) : IOutboxHandler
{
    public string Type => OutboxTypes.PaymentWebhook;

    public async Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        var payload = JsonSerializer.Deserialize<WebhookPayload>(message.Payload, OutboxWriter.Json)!;
        await purchases.ApplyWebhookHintAsync(payload, cancellationToken);
    }
}
