using OpenMavn.Core.Campaigns;

namespace OpenMavn.Core.Ledger;

/// <summary>
/// What mirroring a campaign's vouchers on the registered ledger will cost, for the merchant to see before publishing.
/// A ledger that is not an <see cref="ILedgerFeeEstimator"/> charges nothing that it could tell: a quote of zeros.
/// </summary>
public sealed class LedgerFeeQuotes(IVoucherLedger ledger, TimeProvider time)
{
    /// <summary>How long a caller is asked to wait after the ledger could not quote.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Quotes the campaign's supply at its face value and kind (the caller has checked the campaign may be seen).
    /// Throws a transient <see cref="ProviderException"/> when the ledger cannot be asked (a chain that is down).
    /// </summary>
    public async Task<LedgerFeeQuote> QuoteAsync(Campaign campaign, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(campaign);
        if (ledger is not ILedgerFeeEstimator estimator)
        {
            return new LedgerFeeQuote(ledger.Name, campaign.Supply, 0, 0, "0", "0", "0", null, 0m, 0m, time.GetUtcNow());
        }

        try
        {
            return await estimator.EstimateAsync(new LedgerFeeRequest(campaign.Id, campaign.Supply, campaign.FaceValue, campaign.Kind), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // Whatever the estimator throws (node down, timeout, an answer it cannot read), the quote is unavailable
            // for now: 503 with Retry-After, never a 500.
            var wait = (ex as ProviderException)?.RetryAfter ?? RetryAfter;
            throw new ProviderException(ledger.Name, "the ledger cannot quote its fees right now (is the chain reachable?); try again shortly.", transient: true, wait, ex);
        }
    }
}
