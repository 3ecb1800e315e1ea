namespace OpenMavn.Core.Merchants;

/// <summary>Know-your-customer review state of a merchant.</summary>
public enum KycStatus
{
    /// <summary>Registered, documents not yet submitted.</summary>
    Pending = 0,

    /// <summary>Submitted and waiting for an operator.</summary>
    InReview = 1,

    /// <summary>Approved: may publish campaigns once a payment account is connected.</summary>
    Approved = 2,

    /// <summary>Rejected with a comment.</summary>
    Rejected = 3,

    /// <summary>The operator needs more data; the merchant resubmits.</summary>
    RequiresData = 4,
}

/// <summary>A member's role in a merchant.</summary>
public enum MerchantRole
{
    /// <summary>Manages the merchant, its staff, payment account and campaigns.</summary>
    Owner = 0,

    /// <summary>Redeems vouchers and sees sales.</summary>
    Staff = 1,
}

/// <summary>A small or medium business selling vouchers.</summary>
public sealed class Merchant
{
    /// <summary>Identifier.</summary>
    public Guid Id { get; internal set; }

    /// <summary>Display name.</summary>
    public string Name { get; internal set; } = "";

    /// <summary>Contact email.</summary>
    public string Email { get; internal set; } = "";

    /// <summary>ISO 3166-1 alpha-2 country.</summary>
    public string Country { get; internal set; } = "";

    /// <summary>IANA time zone in which merchant-facing dates (validity) are interpreted.</summary>
    public string TimeZoneId { get; internal set; } = "UTC";

    /// <summary>Language for messages to the merchant.</summary>
    public string Language { get; internal set; } = "en";

    /// <summary>Street address shown to customers.</summary>
    public string? Address { get; internal set; }

    /// <summary>City.</summary>
    public string? City { get; internal set; }

    /// <summary>Latitude of the shop (WGS 84), for "near me" searches.</summary>
    public double? Latitude { get; internal set; }

    /// <summary>Longitude of the shop (WGS 84).</summary>
    public double? Longitude { get; internal set; }

    /// <summary>Set while an operator has suspended the merchant: nothing is sold or redeemed.</summary>
    public DateTimeOffset? SuspendedAt { get; internal set; }

    /// <summary>Why the merchant was suspended.</summary>
    public string? SuspensionReason { get; internal set; }

    /// <summary>Review state.</summary>
    public KycStatus KycStatus { get; internal set; }

    /// <summary>The last reviewer's comment (rejection reason or data requested).</summary>
    public string? KycComment { get; internal set; }

    /// <summary>When the merchant registered.</summary>
    public DateTimeOffset CreatedAt { get; internal set; }

    /// <summary>Wants the daily sales summary email (default true).</summary>
    public bool DailySummary { get; internal set; } = true;

    /// <summary>
    /// The last local day (in <see cref="TimeZoneId"/>) a daily summary was made for, sent or not (a day without
    /// activity sends nothing). Set at registration to the day before, so the first summary is of the registration day.
    /// </summary>
    public DateOnly? LastSummaryOn { get; internal set; }

    /// <summary>Optimistic concurrency token.</summary>
    public long Version { get; internal set; }

    /// <summary>Members (owners and staff).</summary>
    public List<MerchantMember> Members { get; internal set; } = [];

    /// <summary>The connected payment account, if any.</summary>
    public MerchantPaymentAccount? PaymentAccount { get; internal set; }
}

/// <summary>A user who belongs to a merchant.</summary>
public sealed class MerchantMember
{
    /// <summary>Merchant.</summary>
    public Guid MerchantId { get; internal set; }

    /// <summary>The user's id (shared with the identity system).</summary>
    public Guid UserId { get; internal set; }

    /// <summary>The member's email.</summary>
    public string Email { get; internal set; } = "";

    /// <summary>Owner or staff.</summary>
    public MerchantRole Role { get; internal set; }

    /// <summary>When the member was added.</summary>
    public DateTimeOffset AddedAt { get; internal set; }
}

/// <summary>The merchant's own account at a payment provider: the money lands there.</summary>
public sealed class MerchantPaymentAccount
{
    /// <summary>Merchant.</summary>
    public Guid MerchantId { get; internal set; }

    /// <summary>The <see cref="Payments.IPaymentProvider.Name"/> this account belongs to.</summary>
    public string Provider { get; internal set; } = "";

    /// <summary>Provider-side account identifier (for Payrexx, the instance name). Not secret.</summary>
    public string AccountId { get; internal set; } = "";

    /// <summary>The secret, encrypted with ASP.NET Core Data Protection; never logged, never returned.</summary>
    public string ProtectedSecret { get; internal set; } = "";

    /// <summary>When the provider last accepted the credentials.</summary>
    public DateTimeOffset VerifiedAt { get; internal set; }
}

/// <summary>One step of a merchant's KYC review, kept for audit.</summary>
public sealed class KycReview
{
    /// <summary>Identifier.</summary>
    public long Id { get; internal set; }

    /// <summary>Merchant.</summary>
    public Guid MerchantId { get; internal set; }

    /// <summary>State before.</summary>
    public KycStatus From { get; internal set; }

    /// <summary>State after.</summary>
    public KycStatus To { get; internal set; }

    /// <summary>Reviewer's comment.</summary>
    public string? Comment { get; internal set; }

    /// <summary>Who made the change.</summary>
    public string Actor { get; internal set; } = "";

    /// <summary>When.</summary>
    public DateTimeOffset At { get; internal set; }
}

/// <summary>A key a merchant's till or partner system authenticates with. Only a hash of the secret is stored.</summary>
public sealed class MerchantApiKey
{
    /// <summary>Identifier (also the public part of the key).</summary>
    public Guid Id { get; internal set; }

    /// <summary>Merchant.</summary>
    public Guid MerchantId { get; internal set; }

    /// <summary>A name to recognise it by ("Till 1").</summary>
    public string Name { get; internal set; } = "";

    /// <summary>SHA-256 of the secret part, lower-case hex.</summary>
    public string SecretHash { get; internal set; } = "";

    /// <summary>Created.</summary>
    public DateTimeOffset CreatedAt { get; internal set; }

    /// <summary>Who created it.</summary>
    public Guid CreatedBy { get; internal set; }

    /// <summary>Revoked, if it was.</summary>
    public DateTimeOffset? RevokedAt { get; internal set; }

    /// <summary>Last successful use (updated at most once a minute).</summary>
    public DateTimeOffset? LastUsedAt { get; internal set; }
}
