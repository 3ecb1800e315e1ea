using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Accounts;

/// <summary>Platform figures for one currency and period, from the merchants' books (minor units).</summary>
/// <param name="Currency">Currency.</param>
/// <param name="Sold">Face value sold in the period.</param>
/// <param name="Collected">Money collected in the period.</param>
/// <param name="Redeemed">Face value redeemed in the period (net of reversals).</param>
/// <param name="Breakage">Face value expired unredeemed in the period.</param>
/// <param name="Refunded">Face value refunded in the period.</param>
/// <param name="Outstanding">Face value outstanding at the end of the period.</param>
/// <param name="Fees">Fees charged in the period.</param>
public sealed record CurrencyStatistics(string Currency, long Sold, long Collected, long Redeemed, long Breakage, long Refunded, long Outstanding, long Fees);

/// <summary>Operators' statistics per currency and period.</summary>
public sealed class PlatformStatistics(OpenMavnDbContext db)
{
    /// <summary>Figures per currency for [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public async Task<IReadOnlyList<CurrencyStatistics>> GetAsync(Actor actor, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        MerchantAccess.RequireAdmin(actor);
        if (to <= from)
        {
            throw new ValidationFailedException("to", "The period must end after it starts.");
        }

        var lines = db.JournalLines.AsNoTracking().Join(db.JournalEntries, l => l.EntryId, e => e.Id, (l, e) => new { l.Currency, l.Account, l.Debit, l.Credit, e.Kind, e.At });
        var inPeriod = await lines.Where(x => x.At >= from && x.At < to)
            .GroupBy(x => new { x.Currency, x.Account, x.Kind })
            .Select(g => new { g.Key.Currency, g.Key.Account, g.Key.Kind, Debit = g.Sum(x => x.Debit), Credit = g.Sum(x => x.Credit) })
            .ToListAsync(cancellationToken);
        var outstanding = await lines.Where(x => x.At < to && x.Account == LedgerAccount.VoucherLiability)
            .GroupBy(x => x.Currency).Select(g => new { Currency = g.Key, Amount = g.Sum(x => x.Credit - x.Debit) })
            .ToListAsync(cancellationToken);

        return inPeriod.Select(x => x.Currency).Union(outstanding.Select(o => o.Currency)).Order(StringComparer.Ordinal).Select(currency =>
        {
            long Sum(LedgerAccount account, JournalEntryKind kind, bool credit) =>
                inPeriod.Where(x => x.Currency == currency && x.Account == account && x.Kind == kind).Sum(x => credit ? x.Credit - x.Debit : x.Debit - x.Credit);
            return new CurrencyStatistics(
                currency,
                Sold: Sum(LedgerAccount.VoucherLiability, JournalEntryKind.Sale, credit: true),
                Collected: Sum(LedgerAccount.PaymentProviderFunds, JournalEntryKind.Sale, credit: false),
                Redeemed: Sum(LedgerAccount.RedemptionRevenue, JournalEntryKind.Redemption, credit: true) + Sum(LedgerAccount.RedemptionRevenue, JournalEntryKind.RedemptionReversal, credit: true),
                Breakage: Sum(LedgerAccount.BreakageRevenue, JournalEntryKind.Breakage, credit: true),
                Refunded: Sum(LedgerAccount.VoucherLiability, JournalEntryKind.Refund, credit: false),
                Outstanding: outstanding.Where(o => o.Currency == currency).Sum(o => o.Amount),
                Fees: Sum(LedgerAccount.Fees, JournalEntryKind.Fee, credit: false));
        }).ToList();
    }
}
