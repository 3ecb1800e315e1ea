using System.Text.Json;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Outbox;

/// <summary>The outbox message types Core writes and delivers.</summary>
public static class OutboxTypes
{
    /// <summary>A voucher event for the <see cref="IVoucherLedger"/>.</summary>
    public const string LedgerRecord = "ledger.record";

    /// <summary>A notification for one <see cref="INotificationSender"/> channel.</summary>
    public const string Notification = "notification";

    /// <summary>A refund to perform with the payment provider.</summary>
    public const string PaymentRefund = "payment.refund";

    /// <summary>A payment webhook hint to verify with the provider and apply.</summary>
    public const string PaymentWebhook = "payment.webhook";

    /// <summary>An expired checkout to cancel at the payment provider.</summary>
    public const string PaymentCancelCheckout = "payment.cancel-checkout";
}

/// <summary>A notification addressed to one channel, as stored in the outbox.</summary>
/// <param name="Channel">The sender channel.</param>
/// <param name="Message">The message.</param>
public sealed record NotificationEnvelope(string Channel, NotificationMessage Message);

/// <summary>
/// Writes outbox messages into the current unit of work, so they commit or roll back with the state change
/// that caused them.
/// </summary>
public sealed class OutboxWriter(OpenMavnDbContext db, TimeProvider time, IEnumerable<INotificationSender> senders)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly string[] _channels = senders.Select(s => s.Channel).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>The notification channels of this host.</summary>
    public IReadOnlyList<string> Channels => _channels;

    /// <summary>Adds a message of any type.</summary>
    public void Add(string type, object payload, string dedupeKey, string? orderingKey = null, DateTimeOffset? availableAt = null)
    {
        var now = time.GetUtcNow();
        db.OutboxMessages.Add(new OutboxMessage
        {
            Type = type,
            Payload = JsonSerializer.Serialize(payload, payload.GetType(), Json),
            DedupeKey = dedupeKey,
            OrderingKey = orderingKey,
            CreatedAt = now,
            AvailableAt = availableAt ?? now,
        });
    }

    /// <summary>Queues a voucher event for the ledger (in order per voucher).</summary>
    public void Ledger(LedgerEvent ledgerEvent) =>
        Add(OutboxTypes.LedgerRecord, ledgerEvent, $"ledger:{ledgerEvent.EventId:N}", $"voucher:{ledgerEvent.VoucherId:N}");

    /// <summary>
    /// Queues a refund for the payment provider. Refunds of one order go out one at a time (providers without
    /// idempotency keys read back what was refunded before sending the next).
    /// </summary>
    public void Refund(Guid refundId, Guid orderId) =>
        Add(OutboxTypes.PaymentRefund, new Orders.RefundPayload(refundId), $"refund:{refundId:N}", orderingKey: $"refunds:{orderId:N}");

    /// <summary>Queues a notification once per registered channel.</summary>
    public void Notify(NotificationMessage message, DateTimeOffset? availableAt = null)
    {
        foreach (var channel in _channels)
        {
            var perChannel = message with { DedupeKey = $"{message.DedupeKey}:{channel}" };
            Add(OutboxTypes.Notification, new NotificationEnvelope(channel, perChannel), $"notify:{perChannel.DedupeKey}", availableAt: availableAt);
        }
    }
}
