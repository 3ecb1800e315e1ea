using OpenMavn.Core.Campaigns;

namespace OpenMavn.Core.Ledger;

/// <summary>What to quote: mirroring a campaign's vouchers.</summary>
/// <param name="CampaignId">Campaign.</param>
/// <param name="Vouchers">How many vouchers (the campaign's supply).</param>
/// <param name="FaceValue">Face value, minor units.</param>
/// <param name="Kind">Single-use or stored value.</param>
public sealed record LedgerFeeRequest(Guid CampaignId, int Vouchers, long FaceValue, VoucherKind Kind);

/// <summary>
/// The estimated cost of mirroring a campaign's vouchers on the ledger at the current fee level. Wei amounts are
/// decimal strings (they overflow 64 bits); <c>Native</c> amounts are the same in the chain's currency (ether).
/// </summary>
/// <param name="Ledger">Ledger name.</param>
/// <param name="Vouchers">Vouchers quoted.</param>
/// <param name="GasPerIssue">Gas to issue one voucher (batched, as the ledger sends it).</param>
/// <param name="GasPerLifecycle">Gas for one voucher's issue, one transfer and one redemption.</param>
/// <param name="GasPriceWei">The fee per gas the quote uses (0 on a zero-fee chain).</param>
/// <param name="IssueTotalWei">Issuing every voucher.</param>
/// <param name="LifecycleTotalWei">A full lifecycle for every voucher.</param>
/// <param name="NativeCurrency">The chain's currency symbol, or null for a ledger without fees.</param>
/// <param name="IssueTotalNative">Issuing every voucher, in the chain's currency.</param>
/// <param name="LifecycleTotalNative">A full lifecycle for every voucher, in the chain's currency.</param>
/// <param name="QuotedAt">When the fee level was read.</param>
public sealed record LedgerFeeQuote(
    string Ledger,
    int Vouchers,
    long GasPerIssue,
    long GasPerLifecycle,
    string GasPriceWei,
    string IssueTotalWei,
    string LifecycleTotalWei,
    string? NativeCurrency,
    decimal IssueTotalNative,
    decimal LifecycleTotalNative,
    DateTimeOffset QuotedAt);

/// <summary>Optional capability of an <see cref="IVoucherLedger"/>: what mirroring vouchers will cost.</summary>
public interface ILedgerFeeEstimator
{
    /// <summary>Quotes the cost at the current fee level.</summary>
    Task<LedgerFeeQuote> EstimateAsync(LedgerFeeRequest request, CancellationToken cancellationToken = default);
}
