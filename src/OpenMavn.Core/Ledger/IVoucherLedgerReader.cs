namespace OpenMavn.Core.Ledger;

/// <summary>A voucher as a ledger shows it, for reconciliation with the database.</summary>
public enum LedgerVoucherStatus
{
    /// <summary>The ledger does not know the voucher.</summary>
    Unknown = 0,

    /// <summary>Can be redeemed and moved.</summary>
    Active = 1,

    /// <summary>Balance used up.</summary>
    Redeemed = 2,

    /// <summary>Expired.</summary>
    Expired = 3,

    /// <summary>Refunded.</summary>
    Refunded = 4,
}

/// <summary>Which voucher to read from a ledger.</summary>
/// <param name="VoucherId">Voucher.</param>
/// <param name="CampaignId">Its campaign.</param>
public sealed record LedgerVoucherRef(Guid VoucherId, Guid CampaignId);

/// <summary>One voucher as recorded on a ledger.</summary>
/// <param name="VoucherId">Voucher.</param>
/// <param name="Found">False when the ledger has no record of it.</param>
/// <param name="Holder">Holder as the ledger names it (see <see cref="IVoucherLedgerReader.HolderOf"/>).</param>
/// <param name="Balance">Balance, minor units.</param>
/// <param name="Status">Status.</param>
/// <param name="EventsApplied">How many of the voucher's events the ledger has applied.</param>
public sealed record LedgerVoucherState(Guid VoucherId, bool Found, string? Holder, long Balance, LedgerVoucherStatus Status, int EventsApplied);

/// <summary>One campaign as recorded on a ledger.</summary>
/// <param name="CampaignId">Campaign.</param>
/// <param name="Found">False when the ledger has no record of it.</param>
/// <param name="Issued">Vouchers ever issued on the ledger.</param>
/// <param name="Outstanding">Issued minus refunded.</param>
/// <param name="Supply">Supply as the ledger last recorded it.</param>
public sealed record LedgerCampaignState(Guid CampaignId, bool Found, long Issued, long Outstanding, long Supply);

/// <summary>
/// Optional capability of an <see cref="IVoucherLedger"/>: reading back what the ledger holds, independently of the
/// OpenMavn database, so that a reconciliation can compare the two.
/// </summary>
public interface IVoucherLedgerReader
{
    /// <summary>The ledger's name (as <see cref="IVoucherLedger.Name"/>).</summary>
    string Name { get; }

    /// <summary>How this ledger names the holder that is the given customer (e.g. a custodial account id).</summary>
    string HolderOf(Guid customerId);

    /// <summary>Reads vouchers (answers in the order asked; unknown ones with <c>Found = false</c>).</summary>
    Task<IReadOnlyList<LedgerVoucherState>> ReadVouchersAsync(IReadOnlyList<LedgerVoucherRef> vouchers, CancellationToken cancellationToken = default);

    /// <summary>Reads campaigns (answers in the order asked).</summary>
    Task<IReadOnlyList<LedgerCampaignState>> ReadCampaignsAsync(IReadOnlyList<Guid> campaignIds, CancellationToken cancellationToken = default);
}
