using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Accounts;
using OpenMavn.Core.Exchanges;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Vouchers;
using static OpenMavn.Core.Tests.AfterPurchaseKit;

namespace OpenMavn.Core.Tests;

public sealed class VoucherExpiryTests
{
    [Fact]
    public async Task A_voucher_is_active_one_tick_before_it_expires_and_expired_once_the_job_runs_at_that_instant()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var voucher = await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);

        // 365 days after a purchase on 2 March 2026 (Zurich): valid through 2 March 2027, local midnight ends it.
        Assert.Equal(new DateTimeOffset(2027, 3, 2, 23, 0, 0, TimeSpan.Zero), voucher.ExpiresAt);

        host.Time.SetUtcNow(voucher.ExpiresAt - TimeSpan.FromTicks(1));
        Assert.Equal(0, (await RunJobsAsync(host)).VouchersExpired);
        var before = await host.VoucherAsync(voucher.Id);
        Assert.Equal(VoucherStatus.Active, before.Status);
        Assert.Equal(5000, before.Balance);
        Assert.Equal(5000, (await host.RunAsync<RedemptionService, RedemptionPreview>(s => s.PreviewAsync(shop.Staff, shop.MerchantId, voucher.Code))).Amount.Amount);

        host.Time.SetUtcNow(voucher.ExpiresAt);
        Assert.Equal(1, (await RunJobsAsync(host)).VouchersExpired);

        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(VoucherStatus.Expired, after.Status);
        Assert.Equal(0, after.Balance);
        var expired = (await ActivitiesAsync(host, voucher.Id))[^1];
        Assert.Equal(VoucherActivityKind.Expired, expired.Kind);
        Assert.Equal(5000, expired.Amount);
        Assert.Equal(0, expired.BalanceAfter);
        Assert.Equal(voucher.ExpiresAt, expired.At);
        Assert.Equal(Actor.System.ToString(), expired.Actor);

        // The expiry reaches the voucher ledger through the outbox.
        await host.Outbox.DrainAsync();
        var detail = await host.RunAsync<VoucherService, VoucherDetail>(s => s.GetAsync(shop.Owner, voucher.Id));
        Assert.Single(detail.LedgerReceipts, r => r.Kind == LedgerEventKind.Expired);
    }

    [Fact]
    public async Task Expiry_books_what_was_left_on_the_vouchers_as_breakage()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var customer = await host.CreateCustomerAsync();
        var (_, vouchers) = await host.BuyAsync(customer, shop.Campaign.Id, 3);
        await RedeemAsync(host, shop, vouchers[0].Code, 1200);
        await RedeemAsync(host, shop, vouchers[2].Code, 5000);
        host.Time.SetUtcNow(vouchers[0].ExpiresAt);

        Assert.Equal(2, (await RunJobsAsync(host)).VouchersExpired);

        var books = (await host.RunAsync<MerchantAccountService, IReadOnlyList<MerchantBalance>>(s => s.GetBalancesAsync(shop.Owner, shop.MerchantId))).Single();
        Assert.Equal(3800 + 5000, books.Breakage);
        Assert.Equal(1200 + 5000, books.Redeemed);
        Assert.Equal(0, books.OutstandingLiability);
        Assert.Empty(await host.RunAsync<MerchantAccountService, IReadOnlyList<string>>(s => s.VerifyAsync(shop.MerchantId)));
        Assert.Equal(VoucherStatus.Expired, (await host.VoucherAsync(vouchers[0].Id)).Status);
        Assert.Equal(VoucherStatus.Expired, (await host.VoucherAsync(vouchers[1].Id)).Status);
        Assert.Equal(VoucherStatus.Redeemed, (await host.VoucherAsync(vouchers[2].Id)).Status);
        Assert.DoesNotContain(await ActivitiesAsync(host, vouchers[2].Id), a => a.Kind == VoucherActivityKind.Expired);
    }

    [Fact]
    public async Task Expiry_cancels_a_gift_waiting_to_be_claimed_and_kills_its_link()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync();
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);
        host.Time.SetUtcNow(voucher.ExpiresAt - TimeSpan.FromDays(2));
        var gift = await host.RunAsync<GiftService, Gift>(s => s.SendAsync(sender, new SendGift(voucher.Id, "late@example.ch")));
        var token = TokenFrom(Assert.Single(await DeliveredAsync(host, NotificationTypes.GiftReceived, "late@example.ch")));
        Assert.Equal(GiftStatus.AwaitingClaim, gift.Status);

        host.Time.SetUtcNow(voucher.ExpiresAt);
        Assert.Equal(1, (await RunJobsAsync(host)).VouchersExpired);

        var closed = await host.QueryAsync(db => db.Gifts.AsNoTracking().SingleAsync());
        Assert.Equal(GiftStatus.Cancelled, closed.Status);
        Assert.Equal(voucher.ExpiresAt, closed.ClosedAt);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(VoucherStatus.Expired, after.Status);
        Assert.Null(after.PendingGiftId);
        Assert.Equal(sender.Id, after.OwnerId);
        var late = await host.CreateCustomerAsync("late@example.ch");
        Assert.Equal("gift.closed", (await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync<GiftService, Voucher>(s => s.ClaimAsync(late, token)))).Code);
        Assert.Equal(sender.Id, (await host.VoucherAsync(voucher.Id)).OwnerId);
    }

    [Fact]
    public async Task Expiry_cancels_a_gift_scheduled_for_after_the_end_of_validity()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync();
        var friend = await host.CreateCustomerAsync("friend@example.ch");
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);
        host.Time.SetUtcNow(voucher.ExpiresAt - TimeSpan.FromDays(1));
        await host.RunAsync<GiftService, Gift>(s => s.SendAsync(sender, new SendGift(voucher.Id, "friend@example.ch", DeliverAt: voucher.ExpiresAt.AddDays(2))));

        host.Time.SetUtcNow(voucher.ExpiresAt.AddDays(3));
        var round = await RunJobsAsync(host);

        Assert.Equal(1, round.VouchersExpired);
        Assert.Equal(0, round.GiftsDelivered);
        Assert.Equal(GiftStatus.Cancelled, (await host.QueryAsync(db => db.Gifts.AsNoTracking().SingleAsync())).Status);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(sender.Id, after.OwnerId);
        Assert.NotEqual(friend.Id, after.OwnerId);
        Assert.Null(after.PendingGiftId);
    }

    [Fact]
    public async Task Expiry_withdraws_open_exchange_offers_of_the_voucher()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var a = await host.CreateCustomerAsync();
        var b = await host.CreateCustomerAsync();
        var x = await BuyOneAsync(host, a, shop.Campaign);
        host.Time.Advance(TimeSpan.FromDays(1));
        var y = await BuyOneAsync(host, b, shop.Campaign); // a day younger: still valid when x expires
        host.Time.SetUtcNow(x.ExpiresAt - TimeSpan.FromHours(1));
        var offer = await host.RunAsync<ExchangeService, ExchangeOffer>(s => s.OfferAsync(a, new OfferExchange(x.Id, y.Id, null)));

        host.Time.SetUtcNow(x.ExpiresAt);
        Assert.Equal(1, (await RunJobsAsync(host)).VouchersExpired);

        var closed = await host.QueryAsync(db => db.ExchangeOffers.AsNoTracking().SingleAsync(o => o.Id == offer.Id));
        Assert.Equal(ExchangeOfferStatus.Withdrawn, closed.Status);
        await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync<ExchangeService, ExchangeOffer>(s => s.AcceptAsync(b, offer.Id)));
        Assert.Equal(b.Id, (await host.VoucherAsync(y.Id)).OwnerId);
        Assert.Equal(VoucherStatus.Active, (await host.VoucherAsync(y.Id)).Status);
    }

    [Fact]
    public async Task An_expired_voucher_can_no_longer_be_redeemed_gifted_offered_or_refunded()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var customer = await host.CreateCustomerAsync();
        var voucher = await BuyOneAsync(host, customer, shop.Campaign);
        host.Time.SetUtcNow(voucher.ExpiresAt);
        await RunJobsAsync(host);

        Assert.Equal("voucher.expired", (await Assert.ThrowsAsync<ConflictException>(() => RedeemAsync(host, shop, voucher.Code))).Code);
        Assert.Equal("voucher.not_active", (await Assert.ThrowsAsync<ConflictException>(() =>
            host.RunAsync<GiftService, Gift>(s => s.SendAsync(customer, new SendGift(voucher.Id, "friend@example.ch"))))).Code);
        await Assert.ThrowsAsync<ConflictException>(() =>
            host.RunAsync<ExchangeService, ExchangeOffer>(s => s.OfferAsync(customer, new OfferExchange(voucher.Id, null, shop.Campaign.Id))));
        Assert.Equal("voucher.not_active", (await Assert.ThrowsAsync<ConflictException>(() =>
            host.RunAsync<VoucherService, Payments.Refund>(s => s.RefundAsync(shop.Owner, voucher.Id, "customer asked")))).Code);

        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal((VoucherStatus.Expired, 0L, customer.Id), (after.Status, after.Balance, after.OwnerId));
        Assert.Equal(0, await host.QueryAsync(db => db.Gifts.CountAsync()));
    }

    [Fact]
    public async Task Running_the_expiry_twice_or_concurrently_expires_each_voucher_once()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var (_, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), shop.Campaign.Id, 5);
        host.Time.SetUtcNow(vouchers[0].ExpiresAt);

        var outcomes = await RaceAsync(8, _ => host.RunAsync<VoucherService, int>(s => s.ExpireDueAsync()));
        var again = await RunJobsAsync(host);
        var third = await host.RunAsync<VoucherService, int>(s => s.ExpireDueAsync());

        Assert.All(outcomes, o => Assert.Null(o.Error));
        Assert.Equal(5, outcomes.Sum(o => o.Value));
        Assert.Equal(0, again.VouchersExpired);
        Assert.Equal(0, third);
        foreach (var voucher in vouchers)
        {
            Assert.Single(await ActivitiesAsync(host, voucher.Id), a => a.Kind == VoucherActivityKind.Expired);
            Assert.Equal(VoucherStatus.Expired, (await host.VoucherAsync(voucher.Id)).Status);
        }

        Assert.Equal(5, await host.QueryAsync(db => db.JournalEntries.CountAsync(e => e.Kind == JournalEntryKind.Breakage)));
        var books = (await host.RunAsync<MerchantAccountService, IReadOnlyList<MerchantBalance>>(s => s.GetBalancesAsync(shop.Owner, shop.MerchantId))).Single();
        Assert.Equal(5 * 5000, books.Breakage);
        Assert.Empty(await host.RunAsync<MerchantAccountService, IReadOnlyList<string>>(s => s.VerifyAsync(shop.MerchantId)));
    }

    [Fact]
    public async Task Voucher_history_is_append_only()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var customer = await host.CreateCustomerAsync();
        var friend = await host.CreateCustomerAsync("friend@example.ch");
        var voucher = await BuyOneAsync(host, customer, shop.Campaign);
        var seen = new List<string>();
        var snapshots = new List<string>();

        async Task StepAsync(Func<Task> operation)
        {
            host.Time.Advance(TimeSpan.FromMinutes(1));
            await operation();
            var rows = await host.QueryAsync(db => db.VoucherActivities.AsNoTracking().OrderBy(a => a.Id).ToListAsync());
            var rendered = rows.Select(Render).ToList();

            // Every row seen before is still there, unchanged, in the same place; new rows only come after.
            Assert.True(rendered.Count > seen.Count, "each step appends at least one row");
            Assert.Equal(seen, rendered.Take(seen.Count));
            Assert.True(rows.Zip(rows.Skip(1)).All(p => p.First.Id < p.Second.Id && p.First.At <= p.Second.At), "ids and times only grow");
            seen.Clear();
            seen.AddRange(rendered);
            snapshots.Add(string.Join('|', rows.Where(r => r.VoucherId == voucher.Id).Select(r => r.Kind)));
        }

        await StepAsync(() => host.BuyAsync(customer, shop.Campaign.Id)); // another voucher's history grows alongside
        var first = default(RedemptionReceipt);
        await StepAsync(async () => first = await RedeemAsync(host, shop, voucher.Code, 1000));
        await StepAsync(() => host.RunAsync<RedemptionService, Voucher>(s => s.ReverseAsync(shop.Staff, shop.MerchantId, first!.RedemptionId)));
        await StepAsync(() => host.RunAsync<GiftService, Gift>(s => s.SendAsync(customer, new SendGift(voucher.Id, "friend@example.ch"))));
        var code = (await host.VoucherAsync(voucher.Id)).Code;
        await StepAsync(() => RedeemAsync(host, shop, code, 500));
        await StepAsync(async () =>
        {
            host.Time.SetUtcNow(voucher.ExpiresAt);
            Assert.True((await RunJobsAsync(host)).VouchersExpired >= 1);
        });

        Assert.Equal(
            "Issued|Redeemed|RedemptionReversed|GiftSent|Transferred|Redeemed|Expired",
            snapshots[^1]);
        var history = await ActivitiesAsync(host, voucher.Id);
        Assert.Equal(new long[] { 5000, 4000, 5000, 5000, 5000, 4500, 0 }, history.Select(a => a.BalanceAfter));
        Assert.Equal(friend.Id, history.Single(a => a.Kind == VoucherActivityKind.Transferred).ToOwnerId);
    }

    private static string Render(VoucherActivity a) =>
        $"{a.Id}:{a.VoucherId}:{a.Kind}:{a.Actor}:{a.At.UtcTicks}:{a.Amount}:{a.BalanceAfter}:{a.FromOwnerId}:{a.ToOwnerId}:{a.ReferenceId}";
}
