using OpenMavn.Core.Payments;

namespace OpenMavn.Payments.Payrexx;

/// <summary>Maps Payrexx gateway and transaction statuses to <see cref="PaymentStatus"/>.</summary>
public static class PayrexxStatuses
{
    /// <summary>
    /// Maps a Payrexx status. <c>waiting, initiated, uncaptured, authorized, reserved</c> → Pending;
    /// <c>confirmed</c> → Confirmed; <c>declined, error, expired, insecure</c> → Failed; <c>cancelled</c> → Cancelled;
    /// <c>refunded</c>, <c>partially-refunded</c>, <c>refund_pending</c> → their own states; <c>chargeback, disputed</c> →
    /// Disputed; anything else (including null) → <see cref="PaymentStatus.Unknown"/>, never an exception.
    /// </summary>
    public static PaymentStatus Map(string? status) => status?.Trim().ToLowerInvariant() switch
    {
        "waiting" or "initiated" or "uncaptured" or "authorized" or "reserved" => PaymentStatus.Pending,
        "confirmed" => PaymentStatus.Confirmed,
        "declined" or "error" or "expired" or "insecure" => PaymentStatus.Failed,
        "cancelled" => PaymentStatus.Cancelled,
        "refunded" => PaymentStatus.Refunded,
        "partially-refunded" => PaymentStatus.PartiallyRefunded,
        "refund_pending" => PaymentStatus.RefundPending,
        "chargeback" or "disputed" => PaymentStatus.Disputed,
        _ => PaymentStatus.Unknown,
    };
}
