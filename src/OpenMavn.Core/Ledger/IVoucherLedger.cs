namespace OpenMavn.Core.Ledger;

/// <summary>Kinds of voucher events mirrored on a ledger.</summary>
public enum LedgerEventKind
{
    /// <summary>Voucher issued to a holder.</summary>
    Issued = 0,

    /// <summary>Ownership moved (gift or exchange).</summary>
    Transferred = 1,

    /// <summary>Value redeemed (partial for stored-value).</summary>
    Redeemed = 2,

    /// <summary>A redemption was reversed: value restored.</summary>
    RedemptionReversed = 3,

    /// <summary>Expired.</summary>
    Expired = 4,

    /// <summary>Refunded.</summary>
    Refunded = 5,
}

/// <summary>One voucher event for a ledger. Events of one voucher arrive in order.</summary>
/// <param name="EventId">Unique id: recording the same event twice must be a no-op.</param>
/// <param name="Kind">What happened.</param>
/// <param name="VoucherId">Voucher.</param>
/// <param name="CampaignId">Campaign.</param>
/// <param name="MerchantId">Merchant.</param>
/// <param name="CampaignSupply">The campaign's supply (for on-ledger supply caps).</param>
/// <param name="HolderId">Holder after the event.</param>
/// <param name="PreviousHolderId">Holder before (transfers).</param>
/// <param name="Amount">Amount involved, minor units.</param>
/// <param name="BalanceAfter">Balance after, minor units.</param>
/// <param name="Currency">Currency.</param>
/// <param name="OccurredAt">When it happened in the database.</param>
public sealed record LedgerEvent(
    Guid EventId,
    LedgerEventKind Kind,
    Guid VoucherId,
    Guid CampaignId,
    Guid MerchantId,
    int CampaignSupply,
    Guid? HolderId,
    Guid? PreviousHolderId,
    long Amount,
    long BalanceAfter,
    string Currency,
    DateTimeOffset OccurredAt);

/// <summary>The ledger's answer for one event.</summary>
/// <param name="EventId">The event.</param>
/// <param name="Status">Pending (not final yet), confirmed or failed.</param>
/// <param name="TransactionReference">Transaction or record hash.</param>
/// <param name="Position">Block number or sequence.</param>
public sealed record LedgerWriteResult(Guid EventId, LedgerReceiptStatus Status, string? TransactionReference, long? Position);

/// <summary>
/// Mirrors voucher events on a ledger (the built-in database ledger, an EVM chain, …). Called only by the outbox
/// dispatcher, so a ledger that is down delays the mirror, never a sale or a redemption.
/// </summary>
public interface IVoucherLedger
{
    /// <summary>Stable name (<c>database</c>, <c>ethereum</c>).</summary>
    string Name { get; }

    /// <summary>Records events, in order, idempotently per <see cref="LedgerEvent.EventId"/>.</summary>
    Task<IReadOnlyList<LedgerWriteResult>> RecordAsync(IReadOnlyList<LedgerEvent> events, CancellationToken cancellationToken = default);

    /// <summary>Current state of earlier writes (for ledgers where finality comes later).</summary>
    Task<IReadOnlyList<LedgerWriteResult>> GetReceiptsAsync(IReadOnlyList<Guid> eventIds, CancellationToken cancellationToken = default);
}
