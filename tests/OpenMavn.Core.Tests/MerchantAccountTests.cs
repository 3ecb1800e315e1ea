using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Accounts;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Tests;

public sealed class MerchantAccountTests
{
    private static readonly Actor Operator = Actor.Admin(Guid.NewGuid());

    [Fact]
    public async Task Every_balance_matches_the_books_computed_by_hand_after_sales_fees_redemptions_refund_expiry_payout_and_fee_settlement()
    {
        await using var host = await TestHost.StartAsync(o =>
        {
            o.Fees.PlatformBasisPoints = 250;
            o.Fees.PaymentBasisPoints = 150;
            o.Fees.PaymentFixed = 30;
        });
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var singleUse = await host.CreatePublishedCampaignAsync(owner, merchantId, TestHost.Definition() with { ValidityDays = 30 });
        var storedValue = await host.CreatePublishedCampaignAsync(owner, merchantId, TestHost.Definition(kind: VoucherKind.StoredValue) with { ValidityDays = 365 });
        var customer = await host.CreateCustomerAsync();

        // Order 1: 3 × (face 50.00, price 45.00) = 135.00 paid, 150.00 owed in vouchers.
        //   platform fee 2.5 % of 13500 = 337.5 → 338; payment fee 1.5 % of 13500 = 202.5 → 203, + 30 = 233.
        var (_, vouchers) = await host.BuyAsync(customer, singleUse.Id, 3);
        Assert.Equal(3, vouchers.Count);

        // Order 2: 1 × stored value (face 50.00, price 45.00).
        //   platform fee 2.5 % of 4500 = 112.5 → 113; payment fee 1.5 % of 4500 = 67.5 → 68, + 30 = 98.
        var (_, stored) = await host.BuyAsync(customer, storedValue.Id);
        var wallet = Assert.Single(stored);

        await host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(owner, merchantId, vouchers[0].DisplayCode, null, "till-1"));
        await host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(owner, merchantId, wallet.DisplayCode, 1200, "till-2"));
        await host.RunAsync<VoucherService, Payments.Refund>(s => s.RefundAsync(owner, vouchers[1].Id, "Customer changed their mind"));
        await host.Outbox.DrainAsync();

        host.Time.Advance(TimeSpan.FromDays(32));
        var expired = await host.RunAsync<VoucherService, int>(s => s.ExpireDueAsync());
        Assert.Equal(1, expired);
        Assert.Equal(VoucherStatus.Expired, (await host.VoucherAsync(vouchers[2].Id)).Status);

        await host.RunAsync<MerchantAccountService>(s => s.RecordPayoutAsync(owner, merchantId, new Money(10_000, "CHF"), "ref-1"));
        await host.RunAsync<MerchantAccountService>(s => s.RecordFeeSettlementAsync(Operator, merchantId, new Money(300, "CHF"), "ref-2"));

        var balances = await host.RunAsync<MerchantAccountService, IReadOnlyList<MerchantBalance>>(s => s.GetBalancesAsync(owner, merchantId));

        var expected = new MerchantBalance(
            "CHF",
            GrossSales: 13_500 + 4_500,
            Refunds: 4_500,
            Fees: (338 + 233) + (113 + 98),
            HeldAtPaymentProvider: 13_500 - 233 + 4_500 - 98 - 4_500 - 10_000,
            PaidOut: 10_000 - 300, // the Bank account: the fee settlement is paid from the bank
            FeesOwed: 338 + 113 - 300,
            OutstandingLiability: 5_000 - 1_200, // only the stored-value voucher is still active
            Redeemed: 5_000 + 1_200,
            Breakage: 5_000,
            Discounts: (3 * 500) + 500 - 500); // the refund takes back its discount
        Assert.Equal(expected, Assert.Single(balances));

        // The accounting identity: assets + expenses + contra-revenue = liabilities + revenue.
        var b = balances[0];
        Assert.Equal(b.OutstandingLiability + b.FeesOwed + b.Redeemed + b.Breakage, b.HeldAtPaymentProvider + b.PaidOut + b.Fees + b.Discounts);

        var debits = await host.QueryAsync(db => db.JournalLines.SumAsync(l => l.Debit));
        var credits = await host.QueryAsync(db => db.JournalLines.SumAsync(l => l.Credit));
        Assert.Equal(debits, credits);
        Assert.True(debits > 0);
        var unbalancedEntries = await host.QueryAsync(db => db.JournalLines.GroupBy(l => l.EntryId)
            .Where(g => g.Sum(l => l.Debit) != g.Sum(l => l.Credit)).CountAsync());
        Assert.Equal(0, unbalancedEntries);

        var kinds = await host.QueryAsync(db => db.JournalEntries.Where(e => e.MerchantId == merchantId).Select(e => e.Kind).ToListAsync());
        Assert.Equal(
            new[] { JournalEntryKind.Sale, JournalEntryKind.Sale, JournalEntryKind.Fee, JournalEntryKind.Fee, JournalEntryKind.Redemption, JournalEntryKind.Redemption, JournalEntryKind.Breakage, JournalEntryKind.Refund, JournalEntryKind.Payout, JournalEntryKind.FeeSettlement },
            kinds.Order().ToList());

        Assert.Empty(await host.RunAsync<MerchantAccountService, IReadOnlyList<string>>(s => s.VerifyAsync(merchantId)));
    }

    [Fact]
    public async Task Verification_reports_a_voucher_balance_changed_behind_the_books()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId, TestHost.Definition(kind: VoucherKind.StoredValue));
        var customer = await host.CreateCustomerAsync();
        var (_, vouchers) = await host.BuyAsync(customer, campaign.Id, 2);
        await host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(owner, merchantId, vouchers[0].DisplayCode, 1000, "till-1"));
        Assert.Empty(await host.RunAsync<MerchantAccountService, IReadOnlyList<string>>(s => s.VerifyAsync(merchantId)));

        var id = vouchers[1].Id;
        var rows = await host.QueryAsync(db => db.Database.ExecuteSqlInterpolatedAsync($"UPDATE Vouchers SET Balance = Balance - 100 WHERE Id = {id}"));
        Assert.Equal(1, rows);

        var problems = await host.RunAsync<MerchantAccountService, IReadOnlyList<string>>(s => s.VerifyAsync(merchantId));
        var problem = Assert.Single(problems);
        Assert.Contains("CHF", problem, StringComparison.Ordinal);
        Assert.Contains("9000", problem, StringComparison.Ordinal); // the books: 4000 + 5000
        Assert.Contains("8900", problem, StringComparison.Ordinal); // the vouchers: 4000 + 4900
    }

    [Fact]
    public async Task Verification_reports_a_journal_entry_that_no_longer_balances()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var customer = await host.CreateCustomerAsync();
        var (order, _) = await host.BuyAsync(customer, campaign.Id);
        Assert.Empty(await host.RunAsync<MerchantAccountService, IReadOnlyList<string>>(s => s.VerifyAsync(merchantId)));

        var entryId = await host.QueryAsync(db => db.JournalEntries.Where(e => e.ReferenceId == order.Id && e.Kind == JournalEntryKind.Sale).Select(e => e.Id).SingleAsync());
        var discount = LedgerAccount.SalesDiscount.ToString();

        // The database refuses updates of journal lines; someone with schema rights drops the guard first.
        await host.QueryAsync(db => db.Database.ExecuteSqlRawAsync("DROP TRIGGER \"TR_JournalLines_NoUpdate\""));
        var rows = await host.QueryAsync(db => db.Database.ExecuteSqlInterpolatedAsync($"UPDATE JournalLines SET Debit = Debit + 1 WHERE EntryId = {entryId} AND Account = {discount}"));
        Assert.Equal(1, rows);

        var problem = Assert.Single(await host.RunAsync<MerchantAccountService, IReadOnlyList<string>>(s => s.VerifyAsync(merchantId)));
        Assert.Contains(entryId.ToString(), problem, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(0, "CHF", "amount")]
    [InlineData(-500, "CHF", "amount")]
    [InlineData(1000, "XYZ", "currency")]
    [InlineData(1000, "", "currency")]
    [InlineData(1000, "CHFX", "currency")]
    public async Task A_payout_with_a_bad_amount_or_currency_is_refused_naming_the_field_and_books_nothing(long amount, string currency, string field)
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() =>
            host.RunAsync<MerchantAccountService>(s => s.RecordPayoutAsync(owner, merchantId, new Money(amount, currency), "ref-3")));
        Assert.Equal(new[] { field }, error.Errors.Keys);

        var settlement = await Assert.ThrowsAsync<ValidationFailedException>(() =>
            host.RunAsync<MerchantAccountService>(s => s.RecordFeeSettlementAsync(Operator, merchantId, new Money(amount, currency), "ref-4")));
        Assert.Equal(new[] { field }, settlement.Errors.Keys);

        Assert.Equal(0, await host.QueryAsync(db => db.JournalEntries.CountAsync()));
    }

    [Fact]
    public async Task A_payout_currency_is_normalized_before_it_is_booked()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id);

        await host.RunAsync<MerchantAccountService>(s => s.RecordPayoutAsync(owner, merchantId, new Money(1000, " chf "), "ref-5"));

        var balance = Assert.Single(await host.RunAsync<MerchantAccountService, IReadOnlyList<MerchantBalance>>(s => s.GetBalancesAsync(owner, merchantId)));
        Assert.Equal("CHF", balance.Currency);
        Assert.Equal(1000, balance.PaidOut);
        Assert.Equal(4500 - 1000, balance.HeldAtPaymentProvider);
    }

    [Fact]
    public async Task Staff_customers_and_other_merchants_cannot_read_the_balances_or_record_payouts()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var (otherOwner, _) = await host.CreateApprovedMerchantAsync();
        var staff = Actor.Member(Guid.NewGuid());
        await host.RunAsync<MerchantService>(s => s.AddMemberAsync(owner, merchantId, staff.Id, "till@sonne.example.ch", MerchantRole.Staff));
        var customer = await host.CreateCustomerAsync();

        foreach (var outsider in new[] { staff, customer, otherOwner })
        {
            await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantAccountService, IReadOnlyList<MerchantBalance>>(s => s.GetBalancesAsync(outsider, merchantId)));
            await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantAccountService>(s => s.RecordPayoutAsync(outsider, merchantId, new Money(100, "CHF"), "ref-6")));
        }

        // Fee settlements are for operators only, not even for the owner.
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantAccountService>(s => s.RecordFeeSettlementAsync(owner, merchantId, new Money(100, "CHF"), "ref-7")));
        Assert.Equal(0, await host.QueryAsync(db => db.JournalEntries.CountAsync()));

        // The owner and operators may read them.
        Assert.Empty(await host.RunAsync<MerchantAccountService, IReadOnlyList<MerchantBalance>>(s => s.GetBalancesAsync(owner, merchantId)));
        Assert.Empty(await host.RunAsync<MerchantAccountService, IReadOnlyList<MerchantBalance>>(s => s.GetBalancesAsync(Operator, merchantId)));
        await Assert.ThrowsAsync<NotFoundException>(() => host.RunAsync<MerchantAccountService, IReadOnlyList<MerchantBalance>>(s => s.GetBalancesAsync(Operator, Guid.NewGuid())));
    }

    [Fact]
    public async Task A_merchant_selling_in_CHF_and_EUR_keeps_the_currencies_apart()
    {
        await using var host = await TestHost.StartAsync(o => o.Fees.PlatformBasisPoints = 100);
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var francs = await host.CreatePublishedCampaignAsync(owner, merchantId, TestHost.Definition(faceValue: 5000, price: 4500));
        var euros = await host.CreatePublishedCampaignAsync(owner, merchantId, TestHost.Definition(faceValue: 3000, price: 2500, kind: VoucherKind.StoredValue, currency: "EUR"));
        var customer = await host.CreateCustomerAsync();

        var (_, chfVouchers) = await host.BuyAsync(customer, francs.Id, 2);
        var (_, eurVouchers) = await host.BuyAsync(customer, euros.Id);
        Assert.All(eurVouchers, v => Assert.Equal("EUR", v.Currency));
        await host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(owner, merchantId, chfVouchers[0].DisplayCode, null, "till-1"));
        await host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(owner, merchantId, eurVouchers[0].DisplayCode, 700, "till-2"));
        await host.RunAsync<MerchantAccountService>(s => s.RecordPayoutAsync(owner, merchantId, new Money(1000, "EUR"), "ref-8"));

        var balances = await host.RunAsync<MerchantAccountService, IReadOnlyList<MerchantBalance>>(s => s.GetBalancesAsync(owner, merchantId));

        // Platform fee 1 %: CHF 9000 → 90, EUR 2500 → 25.
        Assert.Equal(
            new[]
            {
                new MerchantBalance("CHF", GrossSales: 9000, Refunds: 0, Fees: 90, HeldAtPaymentProvider: 9000, PaidOut: 0, FeesOwed: 90, OutstandingLiability: 5000, Redeemed: 5000, Breakage: 0, Discounts: 1000),
                new MerchantBalance("EUR", GrossSales: 2500, Refunds: 0, Fees: 25, HeldAtPaymentProvider: 1500, PaidOut: 1000, FeesOwed: 25, OutstandingLiability: 2300, Redeemed: 700, Breakage: 0, Discounts: 500),
            },
            balances);

        var perCurrency = await host.QueryAsync(db => db.JournalLines.GroupBy(l => l.Currency)
            .Select(g => new { Currency = g.Key, Debit = g.Sum(l => l.Debit), Credit = g.Sum(l => l.Credit) }).ToListAsync());
        Assert.Equal(new[] { "CHF", "EUR" }, perCurrency.Select(c => c.Currency).Order(StringComparer.Ordinal));
        Assert.All(perCurrency, c => Assert.Equal(c.Debit, c.Credit));
        var mixed = await host.QueryAsync(db => db.JournalLines.GroupBy(l => l.EntryId).Where(g => g.Select(l => l.Currency).Distinct().Count() > 1).CountAsync());
        Assert.Equal(0, mixed);

        Assert.Empty(await host.RunAsync<MerchantAccountService, IReadOnlyList<string>>(s => s.VerifyAsync(merchantId)));
    }
}
