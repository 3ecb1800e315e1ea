namespace OpenMavn.Core.Payments;

/// <summary>Where a refund stands.</summary>
public enum RefundStatus
{
    /// <summary>Recorded; the provider has not confirmed it yet.</summary>
    Requested = 0,

    /// <summary>The provider accepted it but has not finished (Payrexx <c>refund_pending</c>).</summary>
    Pending = 1,

    /// <summary>Money returned.</summary>
    Completed = 2,

    /// <summary>The provider refused it for good; an operator must act.</summary>
    Failed = 3,
}

/// <summary>Money going back to a buyer: a refunded voucher or an order paid after its stock was gone.</summary>
public sealed class Refund
{
    /// <summary>Identifier; also the idempotency key sent to the provider.</summary>
    public Guid Id { get; internal set; }

    /// <summary>The order whose payment is refunded.</summary>
    public Guid OrderId { get; internal set; }

    /// <summary>The refunded voucher, when a single voucher is refunded.</summary>
    public Guid? VoucherId { get; internal set; }

    /// <summary>Merchant.</summary>
    public Guid MerchantId { get; internal set; }

    /// <summary>Amount, minor units.</summary>
    public long Amount { get; internal set; }

    /// <summary>Currency.</summary>
    public string Currency { get; internal set; } = "";

    /// <summary>Why.</summary>
    public string Reason { get; internal set; } = "";

    /// <summary>Status.</summary>
    public RefundStatus Status { get; internal set; }

    /// <summary>Provider's reference for the refund.</summary>
    public string? ProviderReference { get; internal set; }

    /// <summary>Last provider error.</summary>
    public string? LastError { get; internal set; }

    /// <summary>Requested.</summary>
    public DateTimeOffset CreatedAt { get; internal set; }

    /// <summary>Completed or failed.</summary>
    public DateTimeOffset? ClosedAt { get; internal set; }

    /// <summary>Optimistic concurrency token.</summary>
    public long Version { get; internal set; }
}
