namespace OpenMavn.Core.Ledger;

/// <summary>
/// One entry of the built-in database ledger: an append-only, hash-chained record of a voucher event.
/// <see cref="Hash"/> = SHA-256(<see cref="PreviousHash"/> ‖ canonical event), so anyone can re-verify the chain.
/// </summary>
public sealed class LedgerRecord
{
    /// <summary>Position in the chain, from 1.</summary>
    public long Sequence { get; internal set; }

    /// <summary>The event's id (unique: an event is recorded once).</summary>
    public Guid EventId { get; internal set; }

    /// <summary>The canonical text of the event that was hashed.</summary>
    public string Canonical { get; internal set; } = "";

    /// <summary>Voucher.</summary>
    public Guid VoucherId { get; internal set; }

    /// <summary>Hash of the previous record (64 zeros for the first).</summary>
    public string PreviousHash { get; internal set; } = "";

    /// <summary>This record's hash (lower-case hex).</summary>
    public string Hash { get; internal set; } = "";

    /// <summary>When appended.</summary>
    public DateTimeOffset RecordedAt { get; internal set; }
}

/// <summary>Where a ledger write stands.</summary>
public enum LedgerReceiptStatus
{
    /// <summary>Queued or sent, not final yet.</summary>
    Pending = 0,

    /// <summary>Final.</summary>
    Confirmed = 1,

    /// <summary>Rejected by the ledger.</summary>
    Failed = 2,
}

/// <summary>The ledger's receipt for one voucher event, shown in the voucher's detail.</summary>
public sealed class LedgerReceipt
{
    /// <summary>The event.</summary>
    public Guid EventId { get; internal set; }

    /// <summary>Voucher.</summary>
    public Guid VoucherId { get; internal set; }

    /// <summary>What happened.</summary>
    public LedgerEventKind Kind { get; internal set; }

    /// <summary>Ledger name (<c>database</c>, <c>ethereum</c>).</summary>
    public string Ledger { get; internal set; } = "";

    /// <summary>Transaction hash or record hash.</summary>
    public string? TransactionReference { get; internal set; }

    /// <summary>Block number or sequence.</summary>
    public long? Position { get; internal set; }

    /// <summary>Status.</summary>
    public LedgerReceiptStatus Status { get; internal set; }

    /// <summary>Last update.</summary>
    public DateTimeOffset UpdatedAt { get; internal set; }
}
