namespace OpenMavn.Core.Exchanges;

/// <summary>Where an exchange offer stands.</summary>
public enum ExchangeOfferStatus
{
    /// <summary>Waiting for the counterparty.</summary>
    Open = 0,

    /// <summary>Both vouchers changed hands.</summary>
    Accepted = 1,

    /// <summary>The counterparty said no.</summary>
    Declined = 2,

    /// <summary>Withdrawn by the offerer, or because one of the vouchers changed.</summary>
    Withdrawn = 3,

    /// <summary>Not accepted in time.</summary>
    Expired = 4,
}

/// <summary>Customer A offers voucher X for voucher Y of customer B, or for any voucher of a campaign.</summary>
public sealed class ExchangeOffer
{
    /// <summary>Identifier.</summary>
    public Guid Id { get; internal set; }

    /// <summary>Offering customer (A).</summary>
    public Guid OffererId { get; internal set; }

    /// <summary>Offered voucher (X).</summary>
    public Guid OfferedVoucherId { get; internal set; }

    /// <summary>X's version when offered: any change to X withdraws the offer.</summary>
    public long OfferedVoucherVersion { get; internal set; }

    /// <summary>Wanted voucher (Y), when a specific one is asked for.</summary>
    public Guid? RequestedVoucherId { get; internal set; }

    /// <summary>Y's version when offered.</summary>
    public long? RequestedVoucherVersion { get; internal set; }

    /// <summary>Y's owner (B) when a specific voucher is asked for.</summary>
    public Guid? CounterpartyId { get; internal set; }

    /// <summary>Any voucher of this campaign is accepted, when no specific voucher is asked for.</summary>
    public Guid? RequestedCampaignId { get; internal set; }

    /// <summary>Status.</summary>
    public ExchangeOfferStatus Status { get; internal set; }

    /// <summary>The voucher given in return on acceptance.</summary>
    public Guid? AcceptedVoucherId { get; internal set; }

    /// <summary>Who accepted.</summary>
    public Guid? AcceptedById { get; internal set; }

    /// <summary>Created.</summary>
    public DateTimeOffset CreatedAt { get; internal set; }

    /// <summary>The offer lapses at this instant.</summary>
    public DateTimeOffset ExpiresAt { get; internal set; }

    /// <summary>When it left <see cref="ExchangeOfferStatus.Open"/>.</summary>
    public DateTimeOffset? ClosedAt { get; internal set; }

    /// <summary>Why it was withdrawn, if it was.</summary>
    public string? CloseReason { get; internal set; }

    /// <summary>Optimistic concurrency token.</summary>
    public long Version { get; internal set; }
}
