using OpenMavn.Core.Campaigns;

namespace OpenMavn.Core.Vouchers;

/// <summary>A voucher's state.</summary>
public enum VoucherStatus
{
    /// <summary>Can be redeemed, gifted, exchanged, refunded.</summary>
    Active = 0,

    /// <summary>Fully redeemed.</summary>
    Redeemed = 1,

    /// <summary>Past its validity.</summary>
    Expired = 2,

    /// <summary>Paid back to the buyer.</summary>
    Refunded = 3,

    /// <summary>Withdrawn by the platform.</summary>
    Cancelled = 4,
}

/// <summary>A digital voucher held by a customer.</summary>
public sealed class Voucher
{
    /// <summary>Identifier.</summary>
    public Guid Id { get; internal set; }

    /// <summary>Campaign.</summary>
    public Guid CampaignId { get; internal set; }

    /// <summary>Issuing merchant.</summary>
    public Guid MerchantId { get; internal set; }

    /// <summary>The order that paid for it.</summary>
    public Guid OrderId { get; internal set; }

    /// <summary>Current holder.</summary>
    public Guid OwnerId { get; internal set; }

    /// <summary>The public code in canonical form (no separators). Rotates whenever ownership moves.</summary>
    public string Code { get; internal set; } = "";

    /// <summary>Single-use or stored-value.</summary>
    public VoucherKind Kind { get; internal set; }

    /// <summary>Face value, minor units.</summary>
    public long FaceValue { get; internal set; }

    /// <summary>What the buyer paid for this voucher, minor units.</summary>
    public long PricePaid { get; internal set; }

    /// <summary>Remaining value, minor units.</summary>
    public long Balance { get; internal set; }

    /// <summary>ISO 4217 currency.</summary>
    public string Currency { get; internal set; } = "";

    /// <summary>Status.</summary>
    public VoucherStatus Status { get; internal set; }

    /// <summary>When issued.</summary>
    public DateTimeOffset IssuedAt { get; internal set; }

    /// <summary>The instant it stops being valid (end of the last valid day in the merchant's time zone).</summary>
    public DateTimeOffset ExpiresAt { get; internal set; }

    /// <summary>A gift in flight holds the voucher: it cannot be redeemed, exchanged or gifted again.</summary>
    public Guid? PendingGiftId { get; internal set; }

    /// <summary>
    /// The smallest number of days-before-expiry at which its owner was already reminded (or skipped, when opted
    /// out); null before the first reminder. Set by a guarded update that does not bump <see cref="Version"/>: a
    /// reminder changes nothing an exchange offer relies on.
    /// </summary>
    public int? RemindedDays { get; internal set; }

    /// <summary>Optimistic concurrency token; bumped on every change.</summary>
    public long Version { get; internal set; }

    /// <summary>Balance as money.</summary>
    public Money BalanceMoney => new(Balance, Currency);

    /// <summary>The code formatted for people.</summary>
    public string DisplayCode => VoucherCode.Format(Code);
}

/// <summary>What happened to a voucher.</summary>
public enum VoucherActivityKind
{
    /// <summary>Issued after payment.</summary>
    Issued = 0,

    /// <summary>Ownership moved by a gift.</summary>
    Transferred = 1,

    /// <summary>Ownership moved by an exchange.</summary>
    Exchanged = 2,

    /// <summary>Redeemed (whole or in part).</summary>
    Redeemed = 3,

    /// <summary>A redemption was reversed by the merchant.</summary>
    RedemptionReversed = 4,

    /// <summary>Refunded to the buyer.</summary>
    Refunded = 5,

    /// <summary>Expired.</summary>
    Expired = 6,

    /// <summary>A gift was sent (voucher held until claimed).</summary>
    GiftSent = 7,

    /// <summary>A pending gift was cancelled; the voucher is back with its owner.</summary>
    GiftCancelled = 8,
}

/// <summary>One append-only history entry. Never updated, never deleted.</summary>
public sealed class VoucherActivity
{
    /// <summary>Identifier (monotonic).</summary>
    public long Id { get; internal set; }

    /// <summary>Voucher.</summary>
    public Guid VoucherId { get; internal set; }

    /// <summary>What happened.</summary>
    public VoucherActivityKind Kind { get; internal set; }

    /// <summary>Who did it (<see cref="OpenMavn.Core.Actor"/> as text).</summary>
    public string Actor { get; internal set; } = "";

    /// <summary>When.</summary>
    public DateTimeOffset At { get; internal set; }

    /// <summary>Amount involved (redeemed, refunded, …), minor units.</summary>
    public long Amount { get; internal set; }

    /// <summary>Balance after the event, minor units.</summary>
    public long BalanceAfter { get; internal set; }

    /// <summary>Owner before (transfers).</summary>
    public Guid? FromOwnerId { get; internal set; }

    /// <summary>Owner after (issue, transfers).</summary>
    public Guid? ToOwnerId { get; internal set; }

    /// <summary>Related entity (order, redemption, gift, offer, refund).</summary>
    public Guid? ReferenceId { get; internal set; }
}

/// <summary>A confirmed redemption at a merchant.</summary>
public sealed class Redemption
{
    /// <summary>Identifier.</summary>
    public Guid Id { get; internal set; }

    /// <summary>Voucher.</summary>
    public Guid VoucherId { get; internal set; }

    /// <summary>Merchant.</summary>
    public Guid MerchantId { get; internal set; }

    /// <summary>Staff member or API key that redeemed.</summary>
    public string RedeemedBy { get; internal set; } = "";

    /// <summary>Amount redeemed, minor units.</summary>
    public long Amount { get; internal set; }

    /// <summary>Currency.</summary>
    public string Currency { get; internal set; } = "";

    /// <summary>Balance left after.</summary>
    public long BalanceAfter { get; internal set; }

    /// <summary>The till's idempotency key (unique per merchant).</summary>
    public string IdempotencyKey { get; internal set; } = "";

    /// <summary>When.</summary>
    public DateTimeOffset At { get; internal set; }

    /// <summary>When reversed, if it was.</summary>
    public DateTimeOffset? ReversedAt { get; internal set; }

    /// <summary>Optimistic concurrency token.</summary>
    public long Version { get; internal set; }
}
