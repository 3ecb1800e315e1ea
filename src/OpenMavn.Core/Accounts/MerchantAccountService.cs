using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Accounts;

/// <summary>One currency of a merchant's books.</summary>
/// <param name="Currency">Currency.</param>
/// <param name="GrossSales">Money collected from buyers (before refunds and fees).</param>
/// <param name="Refunds">Money returned to buyers.</param>
/// <param name="Fees">Platform and payment fees.</param>
/// <param name="HeldAtPaymentProvider">Balance of the merchant's payment-provider account.</param>
/// <param name="PaidOut">Paid out to the bank.</param>
/// <param name="FeesOwed">Platform fees not yet settled.</param>
/// <param name="OutstandingLiability">Face value of unredeemed vouchers the merchant still owes.</param>
/// <param name="Redeemed">Face value redeemed.</param>
/// <param name="Breakage">Face value that expired unredeemed.</param>
/// <param name="Discounts">Face value given away as discount (face − price), net of refunds.</param>
public sealed record MerchantBalance(
    string Currency,
    long GrossSales,
    long Refunds,
    long Fees,
    long HeldAtPaymentProvider,
    long PaidOut,
    long FeesOwed,
    long OutstandingLiability,
    long Redeemed,
    long Breakage,
    long Discounts);

/// <summary>What a merchant was paid and what it still owes.</summary>
public sealed class MerchantAccountService(OpenMavnDbContext db, TimeProvider time)
{
    /// <summary>Balances per currency from the double-entry books.</summary>
    public async Task<IReadOnlyList<MerchantBalance>> GetBalancesAsync(Actor actor, Guid merchantId, CancellationToken cancellationToken = default)
    {
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Owner, cancellationToken);
        var sums = await db.JournalLines.AsNoTracking().Where(l => l.MerchantId == merchantId)
            .GroupBy(l => new { l.Currency, l.Account })
            .Select(g => new { g.Key.Currency, g.Key.Account, Debit = g.Sum(l => l.Debit), Credit = g.Sum(l => l.Credit) })
            .ToListAsync(cancellationToken);
        var sales = await db.JournalLines.AsNoTracking()
            .Where(l => l.MerchantId == merchantId && l.Account == LedgerAccount.PaymentProviderFunds)
            .Join(db.JournalEntries, l => l.EntryId, e => e.Id, (l, e) => new { l.Currency, e.Kind, l.Debit, l.Credit })
            .Where(x => x.Kind == JournalEntryKind.Sale || x.Kind == JournalEntryKind.Refund)
            .GroupBy(x => new { x.Currency, x.Kind })
            .Select(g => new { g.Key.Currency, g.Key.Kind, Debit = g.Sum(x => x.Debit), Credit = g.Sum(x => x.Credit) })
            .ToListAsync(cancellationToken);

        return sums.Select(s => s.Currency).Distinct().Order(StringComparer.Ordinal).Select(currency =>
        {
            long Debit(LedgerAccount a) => sums.Where(s => s.Currency == currency && s.Account == a).Sum(s => s.Debit - s.Credit);
            long Credit(LedgerAccount a) => -Debit(a);
            return new MerchantBalance(
                currency,
                GrossSales: sales.Where(s => s.Currency == currency && s.Kind == JournalEntryKind.Sale).Sum(s => s.Debit),
                Refunds: sales.Where(s => s.Currency == currency && s.Kind == JournalEntryKind.Refund).Sum(s => s.Credit),
                Fees: Debit(LedgerAccount.Fees),
                HeldAtPaymentProvider: Debit(LedgerAccount.PaymentProviderFunds),
                PaidOut: Debit(LedgerAccount.Bank),
                FeesOwed: Credit(LedgerAccount.FeesPayable),
                OutstandingLiability: Credit(LedgerAccount.VoucherLiability),
                Redeemed: Credit(LedgerAccount.RedemptionRevenue),
                Breakage: Credit(LedgerAccount.BreakageRevenue),
                Discounts: Debit(LedgerAccount.SalesDiscount));
        }).ToList();
    }

    /// <summary>
    /// Records a payout from the provider account to the merchant's bank (owners and operators). The
    /// <paramref name="reference"/> (the provider's payout id, a bank statement line) makes it idempotent: the same
    /// reference with the same amount is recorded once; with another amount it is refused.
    /// </summary>
    public Task RecordPayoutAsync(Actor actor, Guid merchantId, Money amount, string reference, CancellationToken cancellationToken = default) =>
        SettleAsync(actor, merchantId, amount, reference, JournalEntryKind.Payout, LedgerAccount.Bank, LedgerAccount.PaymentProviderFunds, cancellationToken);

    /// <summary>Records the merchant paying its platform fees (operators only); idempotent per <paramref name="reference"/>.</summary>
    public Task RecordFeeSettlementAsync(Actor actor, Guid merchantId, Money amount, string reference, CancellationToken cancellationToken = default)
    {
        MerchantAccess.RequireAdmin(actor);
        return SettleAsync(actor, merchantId, amount, reference, JournalEntryKind.FeeSettlement, LedgerAccount.FeesPayable, LedgerAccount.Bank, cancellationToken);
    }

    /// <summary>
    /// Checks the books: every entry balances, and the outstanding liability equals the sum of active vouchers'
    /// balances, per currency. Returns the differences found (empty = consistent).
    /// </summary>
    public async Task<IReadOnlyList<string>> VerifyAsync(Guid merchantId, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        var unbalanced = await db.JournalLines.AsNoTracking().Where(l => l.MerchantId == merchantId)
            .GroupBy(l => new { l.EntryId, l.Currency })
            .Where(g => g.Sum(l => l.Debit) != g.Sum(l => l.Credit))
            .Select(g => g.Key.EntryId).ToListAsync(cancellationToken);
        problems.AddRange(unbalanced.Select(id => $"Entry {id} does not balance."));
        var liability = await db.JournalLines.AsNoTracking().Where(l => l.MerchantId == merchantId && l.Account == LedgerAccount.VoucherLiability)
            .GroupBy(l => l.Currency).Select(g => new { Currency = g.Key, Amount = g.Sum(l => l.Credit - l.Debit) }).ToListAsync(cancellationToken);
        var vouchers = await db.Vouchers.AsNoTracking().Where(v => v.MerchantId == merchantId && v.Status == VoucherStatus.Active)
            .GroupBy(v => v.Currency).Select(g => new { Currency = g.Key, Amount = g.Sum(v => v.Balance) }).ToListAsync(cancellationToken);
        foreach (var currency in liability.Select(l => l.Currency).Union(vouchers.Select(v => v.Currency)))
        {
            var books = liability.Where(l => l.Currency == currency).Sum(l => l.Amount);
            var actual = vouchers.Where(v => v.Currency == currency).Sum(v => v.Amount);
            if (books != actual)
            {
                problems.Add($"{currency}: books show {books} outstanding, active vouchers hold {actual}.");
            }
        }

        return problems;
    }

    private async Task SettleAsync(Actor actor, Guid merchantId, Money amount, string reference, JournalEntryKind kind, LedgerAccount debit, LedgerAccount credit, CancellationToken cancellationToken)
    {
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Owner, cancellationToken);
        new Validator()
            .Check(amount.Amount <= 0, "amount", "The amount must be positive.")
            .Check(!Currencies.TryNormalize(amount.Currency, out _), "currency", "A supported ISO 4217 currency code is required.")
            .Check(string.IsNullOrWhiteSpace(reference) || reference.Length > 100 || reference.Any(char.IsControl), "reference", "A reference of 1 to 100 printable characters is required.")
            .ThrowIfInvalid();
        Currencies.TryNormalize(amount.Currency, out var currency);
        var dedupeKey = $"{kind}:{merchantId:N}:{reference.Trim()}";
        await db.InTransactionAsync(
            async ct =>
            {
                var existing = await db.JournalEntries.AsNoTracking().Include(e => e.Lines).FirstOrDefaultAsync(e => e.DedupeKey == dedupeKey, ct);
                if (existing is not null)
                {
                    var same = existing.Lines.All(l => l.Currency == currency) && existing.Lines.Sum(l => l.Debit) == amount.Amount;
                    return same ? true : throw new IdempotencyConflictException($"Reference '{reference.Trim()}' was already recorded with another amount.");
                }

                var now = time.GetUtcNow();
                MerchantBooks.Post(db, merchantId, kind, Guid.CreateVersion7(now), dedupeKey, currency, now, (debit, amount.Amount, 0), (credit, 0, amount.Amount));
                return true;
            },
            cancellationToken);
    }
}
