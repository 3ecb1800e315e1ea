namespace OpenMavn.Core.Gifts;

/// <summary>Where a gift stands.</summary>
public enum GiftStatus
{
    /// <summary>Waiting for its delivery date.</summary>
    Scheduled = 0,

    /// <summary>Delivered to a recipient without an account: waiting to be claimed with the link.</summary>
    AwaitingClaim = 1,

    /// <summary>The recipient owns the voucher.</summary>
    Completed = 2,

    /// <summary>Cancelled by the sender (or because the voucher stopped being giftable).</summary>
    Cancelled = 3,
}

/// <summary>A voucher sent from one customer to another person.</summary>
public sealed class Gift
{
    /// <summary>Identifier.</summary>
    public Guid Id { get; internal set; }

    /// <summary>Voucher.</summary>
    public Guid VoucherId { get; internal set; }

    /// <summary>Sender.</summary>
    public Guid SenderId { get; internal set; }

    /// <summary>Normalized recipient email.</summary>
    public string RecipientEmail { get; internal set; } = "";

    /// <summary>Personal message.</summary>
    public string? Message { get; internal set; }

    /// <summary>When to deliver (null = at once).</summary>
    public DateTimeOffset? DeliverAt { get; internal set; }

    /// <summary>SHA-256 of the one-time claim token (the token itself is only ever in the recipient's message).</summary>
    public string ClaimTokenHash { get; internal set; } = "";

    /// <summary>For a scheduled gift, the claim token encrypted at rest until delivery; cleared once delivered.</summary>
    public string? ProtectedClaimToken { get; internal set; }

    /// <summary>Status.</summary>
    public GiftStatus Status { get; internal set; }

    /// <summary>Recipient once completed.</summary>
    public Guid? RecipientId { get; internal set; }

    /// <summary>Created.</summary>
    public DateTimeOffset CreatedAt { get; internal set; }

    /// <summary>Completed or cancelled.</summary>
    public DateTimeOffset? ClosedAt { get; internal set; }

    /// <summary>Optimistic concurrency token.</summary>
    public long Version { get; internal set; }
}
