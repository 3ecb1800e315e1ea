namespace OpenMavn.Core.Notifications;

/// <summary>Who a notification is for.</summary>
/// <param name="UserId">The user, when they have an account (push needs it).</param>
/// <param name="Email">Email address, when known.</param>
/// <param name="Name">Display name.</param>
public sealed record NotificationRecipient(Guid? UserId, string? Email, string? Name);

/// <summary>A message to deliver: an event type, a recipient, a language and the values its template uses.</summary>
/// <param name="Type">One of <see cref="NotificationTypes"/>.</param>
/// <param name="Recipient">Recipient.</param>
/// <param name="Language">Two-letter language.</param>
/// <param name="Model">Template values (already plain text; senders HTML-encode them).</param>
/// <param name="DedupeKey">Unique per message and channel: receivers drop a second delivery.</param>
public sealed record NotificationMessage(
    string Type,
    NotificationRecipient Recipient,
    string Language,
    IReadOnlyDictionary<string, string> Model,
    string DedupeKey);

/// <summary>What a sender did with a message.</summary>
public enum NotificationOutcome
{
    /// <summary>Handed to the channel.</summary>
    Sent = 0,

    /// <summary>Nothing to do on this channel (no address, opted out).</summary>
    Skipped = 1,
}

/// <summary>Delivers notifications on one channel (email, push, log). Called by the outbox dispatcher only.</summary>
public interface INotificationSender
{
    /// <summary>Channel name (<c>email</c>, <c>push</c>, <c>log</c>); one sender per channel.</summary>
    string Channel { get; }

    /// <summary>
    /// Sends a message. Throws <see cref="ProviderException"/> (transient or not) on failure; the outbox retries.
    /// </summary>
    Task<NotificationOutcome> SendAsync(NotificationMessage message, CancellationToken cancellationToken = default);
}

/// <summary>The notification types Core emits.</summary>
public static class NotificationTypes
{
    /// <summary>A customer's vouchers were issued.</summary>
    public const string VoucherPurchased = "voucher.purchased";

    /// <summary>Someone received a gift.</summary>
    public const string GiftReceived = "gift.received";

    /// <summary>The sender's gift reached its recipient.</summary>
    public const string GiftDelivered = "gift.delivered";

    /// <summary>A customer was offered an exchange.</summary>
    public const string ExchangeOffered = "exchange.offered";

    /// <summary>An exchange offer was accepted.</summary>
    public const string ExchangeAccepted = "exchange.accepted";

    /// <summary>An exchange offer was declined.</summary>
    public const string ExchangeDeclined = "exchange.declined";

    /// <summary>A voucher was redeemed.</summary>
    public const string VoucherRedeemed = "voucher.redeemed";

    /// <summary>A refund was made.</summary>
    public const string RefundCompleted = "refund.completed";

    /// <summary>A merchant sold vouchers.</summary>
    public const string MerchantSale = "merchant.sale";

    /// <summary>Someone was invited to a merchant's staff (with a link to set their password when new).</summary>
    public const string StaffInvited = "merchant.staff_invited";

    /// <summary>A merchant's KYC review was decided.</summary>
    public const string MerchantKycDecided = "merchant.kyc_decided";

    /// <summary>A voucher with value left expires soon (sent at each configured number of days before).</summary>
    public const string ExpiryReminder = "voucher.expiry_reminder";

    /// <summary>A merchant's sales and redemptions of one local day.</summary>
    public const string MerchantDailySummary = "merchant.daily_summary";
}
