namespace OpenMavn.Core.Accounts;

/// <summary>The merchant's book accounts (double entry).</summary>
public enum LedgerAccount
{
    /// <summary>Asset: money collected for the merchant and held in its payment-provider account.</summary>
    PaymentProviderFunds = 0,

    /// <summary>Asset: money paid out from the provider to the merchant's bank.</summary>
    Bank = 1,

    /// <summary>Liability: face value of vouchers not yet redeemed.</summary>
    VoucherLiability = 2,

    /// <summary>Contra-revenue: face value given away as discount (face value − price).</summary>
    SalesDiscount = 3,

    /// <summary>Revenue: face value redeemed.</summary>
    RedemptionRevenue = 4,

    /// <summary>Revenue: face value that expired unredeemed.</summary>
    BreakageRevenue = 5,

    /// <summary>Expense: platform and payment fees.</summary>
    Fees = 6,

    /// <summary>Liability: platform fees owed to the platform operator.</summary>
    FeesPayable = 7,
}

/// <summary>Why a journal entry was made.</summary>
public enum JournalEntryKind
{
    /// <summary>A paid order.</summary>
    Sale = 0,

    /// <summary>Platform or payment fees on a sale.</summary>
    Fee = 1,

    /// <summary>A redemption.</summary>
    Redemption = 2,

    /// <summary>A reversed redemption.</summary>
    RedemptionReversal = 3,

    /// <summary>Unredeemed value that expired.</summary>
    Breakage = 4,

    /// <summary>Money returned to a buyer.</summary>
    Refund = 5,

    /// <summary>A payout from the provider account to the bank.</summary>
    Payout = 6,

    /// <summary>Fees paid to the platform operator.</summary>
    FeeSettlement = 7,
}

/// <summary>A balanced set of postings: debits equal credits, per currency.</summary>
public sealed class JournalEntry
{
    /// <summary>Identifier.</summary>
    public Guid Id { get; internal set; }

    /// <summary>Merchant whose books these are.</summary>
    public Guid MerchantId { get; internal set; }

    /// <summary>Why.</summary>
    public JournalEntryKind Kind { get; internal set; }

    /// <summary>The order, redemption, refund, … behind it.</summary>
    public Guid ReferenceId { get; internal set; }

    /// <summary>Natural idempotency key: one entry per (kind, reference).</summary>
    public string DedupeKey { get; internal set; } = "";

    /// <summary>When.</summary>
    public DateTimeOffset At { get; internal set; }

    /// <summary>Postings.</summary>
    public List<JournalLine> Lines { get; internal set; } = [];
}

/// <summary>One posting: a debit or a credit to one account.</summary>
public sealed class JournalLine
{
    /// <summary>Identifier.</summary>
    public long Id { get; internal set; }

    /// <summary>Entry.</summary>
    public Guid EntryId { get; internal set; }

    /// <summary>Merchant (denormalized for balance queries).</summary>
    public Guid MerchantId { get; internal set; }

    /// <summary>Account.</summary>
    public LedgerAccount Account { get; internal set; }

    /// <summary>Currency.</summary>
    public string Currency { get; internal set; } = "";

    /// <summary>Debit, minor units (≥ 0).</summary>
    public long Debit { get; internal set; }

    /// <summary>Credit, minor units (≥ 0).</summary>
    public long Credit { get; internal set; }
}
