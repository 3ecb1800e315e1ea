namespace OpenMavn.Core.Ledger;

/// <summary>Where a voucher event queued for a chain ledger stands.</summary>
public enum ChainEventStatus
{
    /// <summary>Waiting to be sent.</summary>
    Queued = 0,

    /// <summary>In a signed transaction that is not mined yet.</summary>
    Sent = 1,

    /// <summary>Applied by a mined transaction, not deep enough to be final.</summary>
    Applied = 2,

    /// <summary>Applied and final.</summary>
    Confirmed = 3,

    /// <summary>Refused by the chain for good (see the result code).</summary>
    Failed = 4,
}

/// <summary>
/// A voucher event queued for an account-based chain ledger (the durable queue between the outbox and the sender).
/// <see cref="Id"/> is the queue order. Used by chain ledger providers (e.g. OpenMavn.Ledger.Ethereum).
/// </summary>
public sealed class ChainLedgerEvent
{
    /// <summary>Queue order (assigned by the database).</summary>
    public long Id { get; set; }

    /// <summary>The ledger's name.</summary>
    public string Ledger { get; set; } = "";

    /// <summary>The event (unique per ledger).</summary>
    public Guid EventId { get; set; }

    /// <summary>Voucher.</summary>
    public Guid VoucherId { get; set; }

    /// <summary>Campaign.</summary>
    public Guid CampaignId { get; set; }

    /// <summary>What happened.</summary>
    public LedgerEventKind Kind { get; set; }

    /// <summary>The event as JSON, as the outbox delivered it.</summary>
    public string Payload { get; set; } = "";

    /// <summary>The event's position among its voucher's events on the ledger, from 1 (unique per voucher).</summary>
    public int VoucherSeq { get; set; }

    /// <summary>Status.</summary>
    public ChainEventStatus Status { get; set; }

    /// <summary>The journal transaction that carries it (last one when it was re-sent).</summary>
    public long? TransactionId { get; set; }

    /// <summary>The chain's result code for the record (0 applied).</summary>
    public int? ResultCode { get; set; }

    /// <summary>How many times it was sent.</summary>
    public int Attempts { get; set; }

    /// <summary>Last problem (result name or error).</summary>
    public string? LastError { get; set; }

    /// <summary>When queued.</summary>
    public DateTimeOffset QueuedAt { get; set; }

    /// <summary>Last change.</summary>
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A voucher's key on a chain ledger: its campaign and dense serial, and the last event position assigned.</summary>
public sealed class ChainLedgerVoucher
{
    /// <summary>The ledger's name.</summary>
    public string Ledger { get; set; } = "";

    /// <summary>Voucher.</summary>
    public Guid VoucherId { get; set; }

    /// <summary>Campaign.</summary>
    public Guid CampaignId { get; set; }

    /// <summary>0-based position among the campaign's vouchers on this ledger (unique per campaign).</summary>
    public long Serial { get; set; }

    /// <summary>The last <see cref="ChainLedgerEvent.VoucherSeq"/> assigned.</summary>
    public int LastSeq { get; set; }
}

/// <summary>What a chain ledger needs to know about a campaign to write its group headers.</summary>
public sealed class ChainLedgerCampaign
{
    /// <summary>The ledger's name.</summary>
    public string Ledger { get; set; } = "";

    /// <summary>Campaign.</summary>
    public Guid CampaignId { get; set; }

    /// <summary>Supply as last issued with.</summary>
    public int Supply { get; set; }

    /// <summary>Face value, minor units.</summary>
    public long FaceValue { get; set; }
}

/// <summary>What a journal transaction does.</summary>
public enum ChainTransactionKind
{
    /// <summary>Deploys the ledger contract.</summary>
    Deploy = 0,

    /// <summary>Carries a batch of voucher events.</summary>
    Batch = 1,
}

/// <summary>Where a journal transaction stands.</summary>
public enum ChainTransactionStatus
{
    /// <summary>Signed and stored; not known to be broadcast.</summary>
    Signed = 0,

    /// <summary>Handed to the node.</summary>
    Broadcast = 1,

    /// <summary>In a block, not deep enough to be final.</summary>
    Mined = 2,

    /// <summary>Final.</summary>
    Confirmed = 3,

    /// <summary>Mined but reverted.</summary>
    Reverted = 4,

    /// <summary>Never mined: its nonce was used by another transaction.</summary>
    Dropped = 5,
}

/// <summary>
/// The journal of transactions a chain ledger signed, one row per (account, nonce): written before the transaction is
/// broadcast, so a restart re-broadcasts the same signed bytes instead of signing a second transaction.
/// </summary>
public sealed class ChainLedgerTransaction
{
    /// <summary>Id.</summary>
    public long Id { get; set; }

    /// <summary>The ledger's name.</summary>
    public string Ledger { get; set; } = "";

    /// <summary>The sending account (0x address, lower case).</summary>
    public string Account { get; set; } = "";

    /// <summary>Nonce (unique per ledger and account; also the batch id a batch carries on chain).</summary>
    public long Nonce { get; set; }

    /// <summary>Deploy or batch.</summary>
    public ChainTransactionKind Kind { get; set; }

    /// <summary>Transaction hash (0x…).</summary>
    public string Hash { get; set; } = "";

    /// <summary>The signed raw transaction (0x…), broadcast again as is.</summary>
    public string RawTransaction { get; set; } = "";

    /// <summary>Fee cap per gas, wei (decimal string).</summary>
    public string MaxFeePerGas { get; set; } = "0";

    /// <summary>Priority fee per gas, wei (decimal string).</summary>
    public string MaxPriorityFeePerGas { get; set; } = "0";

    /// <summary>Gas limit.</summary>
    public long GasLimit { get; set; }

    /// <summary>Status.</summary>
    public ChainTransactionStatus Status { get; set; }

    /// <summary>Block it was mined in.</summary>
    public long? BlockNumber { get; set; }

    /// <summary>Hash of that block (to notice reorganisations).</summary>
    public string? BlockHash { get; set; }

    /// <summary>Gas used.</summary>
    public long? GasUsed { get; set; }

    /// <summary>Effective gas price, wei (decimal string).</summary>
    public string? EffectiveGasPrice { get; set; }

    /// <summary>For deploys: the contract's address.</summary>
    public string? ContractAddress { get; set; }

    /// <summary>How many times it was broadcast.</summary>
    public int BroadcastAttempts { get; set; }

    /// <summary>Last problem.</summary>
    public string? LastError { get; set; }

    /// <summary>When signed.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Last broadcast.</summary>
    public DateTimeOffset? BroadcastAt { get; set; }

    /// <summary>Last change.</summary>
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>Which host may send a chain ledger's transactions, until when (one sender at a time keeps nonces in order).</summary>
public sealed class ChainLedgerLease
{
    /// <summary>The ledger's name.</summary>
    public string Ledger { get; set; } = "";

    /// <summary>The holder (a random id per worker).</summary>
    public string Holder { get; set; } = "";

    /// <summary>Lease end.</summary>
    public DateTimeOffset Until { get; set; }
}
