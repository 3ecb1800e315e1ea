using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Exchanges;

/// <summary>Open exchange offers are withdrawn, in the same transaction, whenever one of their vouchers changes.</summary>
internal static class OfferInvalidation
{
    public static Task<int> WithdrawInvolvingAsync(OpenMavnDbContext db, Guid voucherId, string reason, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.ExchangeOffers
            .Where(o => o.Status == ExchangeOfferStatus.Open && (o.OfferedVoucherId == voucherId || o.RequestedVoucherId == voucherId))
            .ExecuteUpdateAsync(
                s => s.SetProperty(o => o.Status, ExchangeOfferStatus.Withdrawn)
                    .SetProperty(o => o.ClosedAt, now)
                    .SetProperty(o => o.CloseReason, reason)
                    .SetProperty(o => o.Version, o => o.Version + 1),
                cancellationToken);
}
