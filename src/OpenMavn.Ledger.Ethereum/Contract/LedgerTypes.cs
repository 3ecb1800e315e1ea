namespace OpenMavn.Ledger.Ethereum.Contract;

/// <summary>The operation of one record in a ledger batch (the <c>op</c> byte).</summary>
public enum LedgerOp : byte
{
    /// <summary>Issue a voucher to a holder; its balance becomes the campaign's face value.</summary>
    Issue = 1,

    /// <summary>Move a voucher from one holder to another (gift or exchange).</summary>
    Transfer,

    /// <summary>Take an amount off the balance (partial for stored value); the voucher is redeemed at zero.</summary>
    Redeem,

    /// <summary>Reverse a redemption: the amount goes back on the balance and the voucher is active again.</summary>
    Reverse,

    /// <summary>Mark an active voucher expired (its balance is kept).</summary>
    Expire,

    /// <summary>Refund an active voucher: balance zero, and the campaign's supply slot is free again.</summary>
    Refund,
}

/// <summary>The contract's verdict on one record, as emitted in <c>BatchApplied</c>.</summary>
public enum RecordResult : byte
{
    /// <summary>The record changed state.</summary>
    Applied = 0,

    /// <summary>The record's seq is not above the stored seq: it was applied before; nothing changed.</summary>
    Duplicate,

    /// <summary>The seq skips ahead, or an Issue names a serial other than the campaign's next one.</summary>
    OutOfOrder,

    /// <summary>A non-Issue record for a voucher that was never issued.</summary>
    Unknown,

    /// <summary>The voucher is not in a state that allows the operation (e.g. redeemed, expired, refunded).</summary>
    NotActive,

    /// <summary>A redemption larger than the balance (a balance never goes below zero).</summary>
    InsufficientBalance,

    /// <summary>An Issue while the campaign's outstanding vouchers already equal its supply.</summary>
    SupplyExceeded,

    /// <summary>A transfer from someone other than the holder or to nobody, or an Issue to nobody.</summary>
    WrongHolder,

    /// <summary>A zero amount, or a reversal that would lift the balance above the face value.</summary>
    BadAmount,

    /// <summary>The group names a campaign registered with another face value, or registers one with zero face or supply.</summary>
    CampaignMismatch,

    /// <summary>The group lowers the campaign's supply below its outstanding vouchers.</summary>
    SupplyBelowOutstanding,
}

/// <summary>A voucher's status on chain.</summary>
public enum OnChainStatus : byte
{
    /// <summary>Never issued.</summary>
    None = 0,

    /// <summary>Issued and usable.</summary>
    Active,

    /// <summary>Balance redeemed to zero.</summary>
    Redeemed,

    /// <summary>Expired (balance kept).</summary>
    Expired,

    /// <summary>Refunded (balance zero, supply freed).</summary>
    Refunded,
}

/// <summary>
/// One record of a batch. Which optional fields count depends on <see cref="Op"/>: Issue uses
/// <see cref="VoucherId"/> and <see cref="Holder"/>, Transfer <see cref="From"/> and <see cref="To"/>,
/// Redeem and Reverse <see cref="Amount"/>, Expire and Refund none.
/// </summary>
/// <param name="Op">The operation.</param>
/// <param name="Serial">The voucher's 0-based position among its campaign's vouchers on this ledger.</param>
/// <param name="Seq">The voucher's event sequence number (Issue is 1; each later event one more).</param>
/// <param name="VoucherId">Issue: the platform's voucher id.</param>
/// <param name="Holder">Issue: the custodial account that receives the voucher.</param>
/// <param name="From">Transfer: the current holder.</param>
/// <param name="To">Transfer: the new holder.</param>
/// <param name="Amount">Redeem/Reverse: minor units.</param>
public sealed record BatchRecord(
    LedgerOp Op,
    uint Serial,
    ushort Seq,
    Guid VoucherId = default,
    ulong Holder = 0,
    ulong From = 0,
    ulong To = 0,
    uint Amount = 0);

/// <summary>The records of one campaign in a batch, with the campaign's registration data.</summary>
/// <param name="CampaignId">The campaign.</param>
/// <param name="Supply">The campaign's supply (registers it, or changes it when it differs).</param>
/// <param name="FaceValue">The campaign's face value in minor units (must match the registered one).</param>
/// <param name="Records">The records, applied in order.</param>
public sealed record BatchGroup(Guid CampaignId, uint Supply, uint FaceValue, IReadOnlyList<BatchRecord> Records);

/// <summary>A voucher as the contract stores it.</summary>
/// <param name="Holder">Custodial account of the holder (0 = nobody).</param>
/// <param name="Balance">Balance in minor units.</param>
/// <param name="Seq">Sequence number of the last applied event.</param>
/// <param name="Status">Status.</param>
public sealed record OnChainVoucher(ulong Holder, uint Balance, ushort Seq, OnChainStatus Status)
{
    /// <summary>Unpacks a 128-bit record (holder [0..63], balance [64..95], seq [96..111], status [112..119]).</summary>
    /// <param name="record">The record in the low 128 bits.</param>
    /// <returns>The voucher.</returns>
    public static OnChainVoucher FromRecord(System.Numerics.BigInteger record) =>
        new(
            (ulong)(record & ulong.MaxValue),
            (uint)((record >> 64) & uint.MaxValue),
            (ushort)((record >> 96) & ushort.MaxValue),
            (OnChainStatus)(byte)((record >> 112) & byte.MaxValue));
}

/// <summary>A campaign's counters on chain.</summary>
/// <param name="Supply">Most vouchers that may be outstanding.</param>
/// <param name="Outstanding">Issued minus refunded.</param>
/// <param name="Issued">Vouchers issued so far (= the next serial).</param>
/// <param name="FaceValue">Face value in minor units (0 = not registered).</param>
public sealed record OnChainCampaign(uint Supply, uint Outstanding, uint Issued, uint FaceValue);
