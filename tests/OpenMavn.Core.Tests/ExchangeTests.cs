using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Exchanges;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Vouchers;
using Xunit.Abstractions;
using static OpenMavn.Core.Tests.AfterPurchaseKit;

namespace OpenMavn.Core.Tests;

public sealed class ExchangeTests(ITestOutputHelper output)
{
    public enum MidwayChange
    {
        WantedVoucherPartlyRedeemed,
        WantedVoucherGifted,
        OfferedVoucherPartlyRedeemed,
        OfferedVoucherGiftedAndCancelled,
        WantedVoucherRedemptionReversed,
    }

    [Fact]
    public async Task An_accepted_offer_swaps_both_owners_and_rotates_both_codes()
    {
        await using var host = await TestHost.StartAsync();
        var s = await SetUpAsync(host);

        var offer = await OfferAsync(host, s.A, new OfferExchange(s.X.Id, s.Y.Id, null));
        var accepted = await AcceptAsync(host, s.B, offer.Id);

        Assert.Equal(ExchangeOfferStatus.Accepted, accepted.Status);
        Assert.Equal(s.Y.Id, accepted.AcceptedVoucherId);
        Assert.Equal(s.B.Id, accepted.AcceptedById);
        var x = await host.VoucherAsync(s.X.Id);
        var y = await host.VoucherAsync(s.Y.Id);
        Assert.Equal(s.B.Id, x.OwnerId);
        Assert.Equal(s.A.Id, y.OwnerId);
        Assert.NotEqual(s.X.Code, x.Code);
        Assert.NotEqual(s.Y.Code, y.Code);
        Assert.Equal((s.X.Balance, s.Y.Balance), (x.Balance, y.Balance));

        var xExchanged = Assert.Single(await ActivitiesAsync(host, s.X.Id), a => a.Kind == VoucherActivityKind.Exchanged);
        var yExchanged = Assert.Single(await ActivitiesAsync(host, s.Y.Id), a => a.Kind == VoucherActivityKind.Exchanged);
        Assert.Equal((s.A.Id, s.B.Id, offer.Id), (xExchanged.FromOwnerId!.Value, xExchanged.ToOwnerId!.Value, xExchanged.ReferenceId!.Value));
        Assert.Equal((s.B.Id, s.A.Id, offer.Id), (yExchanged.FromOwnerId!.Value, yExchanged.ToOwnerId!.Value, yExchanged.ReferenceId!.Value));

        // The codes the previous owners knew are worthless; the new ones work at the right shops.
        await Assert.ThrowsAsync<NotFoundException>(() => RedeemAsync(host, s.ShopX, s.X.Code, 100));
        await Assert.ThrowsAsync<NotFoundException>(() => RedeemAsync(host, s.ShopY, s.Y.Code, 100));
        Assert.Equal(s.X.Id, (await RedeemAsync(host, s.ShopX, x.Code, 100)).VoucherId);
        Assert.Equal(s.Y.Id, (await RedeemAsync(host, s.ShopY, y.Code, 100)).VoucherId);

        await host.Outbox.DrainAsync();
        Assert.Single(host.Sent.OfType(NotificationTypes.ExchangeOffered), m => m.Recipient.UserId == s.B.Id);
        Assert.Single(host.Sent.OfType(NotificationTypes.ExchangeAccepted), m => m.Recipient.UserId == s.A.Id);
        Assert.Equal(
            ExchangeOfferStatus.Accepted,
            Assert.Single(await host.RunAsync<ExchangeService, IReadOnlyList<ExchangeOffer>>(e => e.ListAsync(s.A, openOnly: false))).Status);
    }

    [Fact]
    public async Task A_campaign_wide_offer_is_accepted_by_a_holder_of_that_campaign()
    {
        await using var host = await TestHost.StartAsync();
        var s = await SetUpAsync(host);
        var outsider = await host.CreateCustomerAsync();
        var outsiders = await BuyOneAsync(host, outsider, s.ShopX.Campaign);

        var offer = await OfferAsync(host, s.A, new OfferExchange(s.X.Id, null, s.ShopY.Campaign.Id));

        Assert.Null(offer.CounterpartyId);
        Assert.Contains(await host.RunAsync<ExchangeService, IReadOnlyList<ExchangeOffer>>(e => e.ListAsync(s.B)), o => o.Id == offer.Id);
        Assert.DoesNotContain(await host.RunAsync<ExchangeService, IReadOnlyList<ExchangeOffer>>(e => e.ListAsync(outsider)), o => o.Id == offer.Id);

        // A voucher of another campaign, none at all, or someone else's voucher does not do.
        var wrongCampaign = await Assert.ThrowsAsync<ValidationFailedException>(() => AcceptAsync(host, outsider, offer.Id, outsiders.Id));
        Assert.Contains("givenVoucherId", wrongCampaign.Errors.Keys);
        var none = await Assert.ThrowsAsync<ValidationFailedException>(() => AcceptAsync(host, s.B, offer.Id));
        Assert.Contains("givenVoucherId", none.Errors.Keys);
        await Assert.ThrowsAsync<NotFoundException>(() => AcceptAsync(host, outsider, offer.Id, s.Y.Id));
        Assert.Equal(ExchangeOfferStatus.Open, (await OfferStateAsync(host, offer.Id)).Status);

        var accepted = await AcceptAsync(host, s.B, offer.Id, s.Y.Id);

        Assert.Equal(ExchangeOfferStatus.Accepted, accepted.Status);
        Assert.Equal(s.Y.Id, accepted.AcceptedVoucherId);
        Assert.Equal(s.B.Id, (await host.VoucherAsync(s.X.Id)).OwnerId);
        Assert.Equal(s.A.Id, (await host.VoucherAsync(s.Y.Id)).OwnerId);
        Assert.Equal(outsider.Id, (await host.VoucherAsync(outsiders.Id)).OwnerId);
    }

    [Fact]
    public async Task A_holder_giving_an_unusable_voucher_for_a_campaign_wide_offer_is_refused_and_the_offer_stays_open()
    {
        await using var host = await TestHost.StartAsync();
        var s = await SetUpAsync(host);
        var spoiler = await host.CreateCustomerAsync();
        var used = await BuyOneAsync(host, spoiler, s.ShopY.Campaign);
        await RedeemAsync(host, s.ShopY, used.Code);
        var offer = await OfferAsync(host, s.A, new OfferExchange(s.X.Id, null, s.ShopY.Campaign.Id));

        // A fully redeemed voucher of the campaign is worth nothing: it must not close A's offer for everyone.
        var error = await Assert.ThrowsAsync<ConflictException>(() => AcceptAsync(host, spoiler, offer.Id, used.Id));

        Assert.Equal("voucher.not_active", error.Code);
        Assert.Equal(ExchangeOfferStatus.Open, (await OfferStateAsync(host, offer.Id)).Status);
        Assert.Equal(spoiler.Id, (await host.VoucherAsync(used.Id)).OwnerId);
        await AssertNothingMovedAsync(host, s);

        var accepted = await AcceptAsync(host, s.B, offer.Id, s.Y.Id);
        Assert.Equal(ExchangeOfferStatus.Accepted, accepted.Status);
        Assert.Equal(s.B.Id, (await host.VoucherAsync(s.X.Id)).OwnerId);
    }

    [Fact]
    public async Task Many_holders_accepting_one_campaign_wide_offer_at_once_make_exactly_one_exchange()
    {
        await using var host = await TestHost.StartAsync();
        var s = await SetUpAsync(host);
        var holders = new List<(Actor Customer, Voucher Voucher)>();
        for (var i = 0; i < 8; i++)
        {
            var customer = await host.CreateCustomerAsync();
            holders.Add((customer, await BuyOneAsync(host, customer, s.ShopY.Campaign)));
        }

        var offer = await OfferAsync(host, s.A, new OfferExchange(s.X.Id, null, s.ShopY.Campaign.Id));
        var outcomes = await RaceAsync(holders.Count, i => AcceptAsync(host, holders[i].Customer, offer.Id, holders[i].Voucher.Id));

        var winner = Assert.Single(outcomes, o => o.Succeeded).Value!;
        Assert.All(outcomes.Where(o => !o.Succeeded), o => Assert.IsType<ConflictException>(o.Error));
        var x = await host.VoucherAsync(s.X.Id);
        Assert.Equal(winner.AcceptedById, x.OwnerId);
        Assert.Single(await ActivitiesAsync(host, s.X.Id), a => a.Kind == VoucherActivityKind.Exchanged);
        foreach (var (customer, voucher) in holders)
        {
            var now = await host.VoucherAsync(voucher.Id);
            Assert.Equal(voucher.Id == winner.AcceptedVoucherId ? s.A.Id : customer.Id, now.OwnerId);
        }
    }

    [Fact]
    public async Task A_declined_offer_moves_nothing_and_cannot_be_accepted_afterwards()
    {
        await using var host = await TestHost.StartAsync();
        var s = await SetUpAsync(host);
        var offer = await OfferAsync(host, s.A, new OfferExchange(s.X.Id, s.Y.Id, null));

        await Assert.ThrowsAsync<NotFoundException>(() => host.RunAsync<ExchangeService>(e => e.DeclineAsync(s.A, offer.Id)));
        await host.RunAsync<ExchangeService>(e => e.DeclineAsync(s.B, offer.Id));

        Assert.Equal(ExchangeOfferStatus.Declined, (await OfferStateAsync(host, offer.Id)).Status);
        var error = await Assert.ThrowsAsync<ConflictException>(() => AcceptAsync(host, s.B, offer.Id));
        Assert.Equal("exchange.closed", error.Code);
        await AssertNothingMovedAsync(host, s);
        await host.Outbox.DrainAsync();
        Assert.Single(host.Sent.OfType(NotificationTypes.ExchangeDeclined), m => m.Recipient.UserId == s.A.Id);
    }

    [Fact]
    public async Task The_offerer_withdraws_an_offer_and_it_cannot_be_accepted_afterwards()
    {
        await using var host = await TestHost.StartAsync();
        var s = await SetUpAsync(host);
        var offer = await OfferAsync(host, s.A, new OfferExchange(s.X.Id, s.Y.Id, null));

        await Assert.ThrowsAsync<NotFoundException>(() => host.RunAsync<ExchangeService>(e => e.WithdrawAsync(s.B, offer.Id)));
        await host.RunAsync<ExchangeService>(e => e.WithdrawAsync(s.A, offer.Id));

        Assert.Equal(ExchangeOfferStatus.Withdrawn, (await OfferStateAsync(host, offer.Id)).Status);
        Assert.Equal("exchange.closed", (await Assert.ThrowsAsync<ConflictException>(() => AcceptAsync(host, s.B, offer.Id))).Code);
        Assert.Equal("exchange.closed", (await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync<ExchangeService>(e => e.WithdrawAsync(s.A, offer.Id)))).Code);
        await AssertNothingMovedAsync(host, s);
    }

    [Fact]
    public async Task Nobody_but_the_asked_customer_can_accept_a_targeted_offer()
    {
        await using var host = await TestHost.StartAsync();
        var s = await SetUpAsync(host);
        var third = await host.CreateCustomerAsync();
        var thirds = await BuyOneAsync(host, third, s.ShopY.Campaign);
        var offer = await OfferAsync(host, s.A, new OfferExchange(s.X.Id, s.Y.Id, null));

        await Assert.ThrowsAsync<NotFoundException>(() => AcceptAsync(host, third, offer.Id));
        await Assert.ThrowsAsync<NotFoundException>(() => AcceptAsync(host, third, offer.Id, thirds.Id));
        Assert.Equal("exchange.own_offer", (await Assert.ThrowsAsync<ConflictException>(() => AcceptAsync(host, s.A, offer.Id))).Code);
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<ExchangeService, ExchangeOffer>(e => e.AcceptAsync(s.ShopY.Staff, offer.Id)));

        Assert.Equal(ExchangeOfferStatus.Open, (await OfferStateAsync(host, offer.Id)).Status);
        await AssertNothingMovedAsync(host, s);
        Assert.Equal(third.Id, (await host.VoucherAsync(thirds.Id)).OwnerId);
    }

    [Fact]
    public async Task A_customer_cannot_offer_a_voucher_they_do_not_own_or_ask_for_their_own()
    {
        await using var host = await TestHost.StartAsync();
        var s = await SetUpAsync(host);
        var second = await BuyOneAsync(host, s.A, s.ShopY.Campaign);

        await Assert.ThrowsAsync<NotFoundException>(() => OfferAsync(host, s.B, new OfferExchange(s.X.Id, s.Y.Id, null)));
        var own = await Assert.ThrowsAsync<ValidationFailedException>(() => OfferAsync(host, s.A, new OfferExchange(s.X.Id, second.Id, null)));
        Assert.Contains("requestedVoucherId", own.Errors.Keys);
        var both = await Assert.ThrowsAsync<ValidationFailedException>(() => OfferAsync(host, s.A, new OfferExchange(s.X.Id, s.Y.Id, s.ShopY.Campaign.Id)));
        Assert.Contains("requestedVoucherId", both.Errors.Keys);

        Assert.Equal(0, await host.QueryAsync(db => db.ExchangeOffers.CountAsync()));
    }

    [Fact]
    public async Task Vouchers_of_a_non_exchangeable_campaign_are_refused_on_either_side()
    {
        await using var host = await TestHost.StartAsync();
        var s = await SetUpAsync(host);
        var locked = await OpenShopAsync(host, TestHost.Definition() with { Exchangeable = false });
        var aLocked = await BuyOneAsync(host, s.A, locked.Campaign);
        var bLocked = await BuyOneAsync(host, s.B, locked.Campaign);

        var offered = await Assert.ThrowsAsync<ConflictException>(() => OfferAsync(host, s.A, new OfferExchange(aLocked.Id, s.Y.Id, null)));
        var requested = await Assert.ThrowsAsync<ConflictException>(() => OfferAsync(host, s.A, new OfferExchange(s.X.Id, bLocked.Id, null)));
        var campaignWide = await Assert.ThrowsAsync<ConflictException>(() => OfferAsync(host, s.A, new OfferExchange(s.X.Id, null, locked.Campaign.Id)));

        Assert.Equal("voucher.not_exchangeable", offered.Code);
        Assert.Equal("voucher.not_exchangeable", requested.Code);
        Assert.Equal("campaign.not_exchangeable", campaignWide.Code);
        Assert.Equal(0, await host.QueryAsync(db => db.ExchangeOffers.CountAsync()));
    }

    [Fact]
    public async Task An_offer_lapses_after_its_lifetime_and_can_no_longer_be_accepted()
    {
        await using var host = await TestHost.StartAsync();
        var s = await SetUpAsync(host);
        var lifetime = host.Services.GetRequiredService<IOptions<OpenMavnOptions>>().Value.ExchangeOfferLifetime;
        var offer = await OfferAsync(host, s.A, new OfferExchange(s.X.Id, s.Y.Id, null));
        Assert.Equal(offer.CreatedAt + lifetime, offer.ExpiresAt);

        host.Time.Advance(lifetime - TimeSpan.FromSeconds(1));
        Assert.Contains(await host.RunAsync<ExchangeService, IReadOnlyList<ExchangeOffer>>(e => e.ListAsync(s.B)), o => o.Id == offer.Id);
        host.Time.Advance(TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<ConflictException>(() => AcceptAsync(host, s.B, offer.Id));
        Assert.Equal("exchange.expired", error.Code);
        Assert.DoesNotContain(await host.RunAsync<ExchangeService, IReadOnlyList<ExchangeOffer>>(e => e.ListAsync(s.B)), o => o.Id == offer.Id);
        Assert.Equal(1, (await RunJobsAsync(host)).OffersExpired);
        Assert.Equal(ExchangeOfferStatus.Expired, (await OfferStateAsync(host, offer.Id)).Status);
        Assert.Equal("exchange.closed", (await Assert.ThrowsAsync<ConflictException>(() => AcceptAsync(host, s.B, offer.Id))).Code);
        await AssertNothingMovedAsync(host, s);
    }

    [Theory]
    [InlineData(MidwayChange.WantedVoucherPartlyRedeemed)]
    [InlineData(MidwayChange.WantedVoucherGifted)]
    [InlineData(MidwayChange.OfferedVoucherPartlyRedeemed)]
    [InlineData(MidwayChange.OfferedVoucherGiftedAndCancelled)]
    [InlineData(MidwayChange.WantedVoucherRedemptionReversed)]
    public async Task When_one_side_changes_after_the_offer_nothing_moves(MidwayChange change)
    {
        await using var host = await TestHost.StartAsync();
        var s = await SetUpAsync(host);
        RedemptionReceipt? earlier = null;
        if (change == MidwayChange.WantedVoucherRedemptionReversed)
        {
            earlier = await RedeemAsync(host, s.ShopY, s.Y.Code, 700);
        }

        var offer = await OfferAsync(host, s.A, new OfferExchange(s.X.Id, s.Y.Id, null));
        switch (change)
        {
            case MidwayChange.WantedVoucherPartlyRedeemed:
                await RedeemAsync(host, s.ShopY, s.Y.Code, 1000);
                break;
            case MidwayChange.WantedVoucherGifted:
                await host.RunAsync<GiftService, Gift>(g => g.SendAsync(s.B, new SendGift(s.Y.Id, "newcomer@example.ch")));
                break;
            case MidwayChange.OfferedVoucherPartlyRedeemed:
                await RedeemAsync(host, s.ShopX, s.X.Code, 1000);
                break;
            case MidwayChange.OfferedVoucherGiftedAndCancelled:
                var gift = await host.RunAsync<GiftService, Gift>(g => g.SendAsync(s.A, new SendGift(s.X.Id, "newcomer@example.ch")));
                await host.RunAsync<GiftService>(g => g.CancelAsync(s.A, gift.Id));
                break;
            case MidwayChange.WantedVoucherRedemptionReversed:
                await host.RunAsync<RedemptionService, Voucher>(r => r.ReverseAsync(s.ShopY.Staff, s.ShopY.MerchantId, earlier!.RedemptionId));
                break;
        }

        var x = await host.VoucherAsync(s.X.Id);
        var y = await host.VoucherAsync(s.Y.Id);

        var error = await Assert.ThrowsAsync<ConflictException>(() => AcceptAsync(host, s.B, offer.Id));

        Assert.Contains(error.Code, new[] { "exchange.voucher_changed", "exchange.closed" });
        var state = await OfferStateAsync(host, offer.Id);
        Assert.Equal(ExchangeOfferStatus.Withdrawn, state.Status);
        Assert.NotNull(state.CloseReason);
        Assert.Null(state.AcceptedById);
        var xAfter = await host.VoucherAsync(s.X.Id);
        var yAfter = await host.VoucherAsync(s.Y.Id);
        Assert.Equal((x.OwnerId, x.Code, x.Balance, x.Version), (xAfter.OwnerId, xAfter.Code, xAfter.Balance, xAfter.Version));
        Assert.Equal((y.OwnerId, y.Code, y.Balance, y.Version), (yAfter.OwnerId, yAfter.Code, yAfter.Balance, yAfter.Version));
        Assert.Equal(s.A.Id, xAfter.OwnerId);
        Assert.Equal(s.B.Id, yAfter.OwnerId);
        Assert.DoesNotContain(await ActivitiesAsync(host, s.X.Id), a => a.Kind == VoucherActivityKind.Exchanged);
        Assert.DoesNotContain(await ActivitiesAsync(host, s.Y.Id), a => a.Kind == VoucherActivityKind.Exchanged);
        if (change == MidwayChange.WantedVoucherRedemptionReversed)
        {
            // Nothing withdrew the offer on the way: acceptance itself saw the changed version.
            Assert.Equal("exchange.voucher_changed", error.Code);
        }
    }

    [Fact]
    public async Task An_exchange_racing_a_redemption_of_the_offered_voucher_happens_whole_or_not_at_all()
    {
        await using var host = await TestHost.StartAsync();
        var shopX = await OpenShopAsync(host, TestHost.Definition(supply: 100));
        var shopY = await OpenShopAsync(host, TestHost.Definition(supply: 100));
        var a = await host.CreateCustomerAsync();
        var b = await host.CreateCustomerAsync();
        var exchanges = 0;
        var redemptions = 0;
        for (var round = 0; round < 16; round++)
        {
            var x = await BuyOneAsync(host, a, shopX.Campaign);
            var y = await BuyOneAsync(host, b, shopY.Campaign);
            var offer = await OfferAsync(host, a, new OfferExchange(x.Id, y.Id, null));

            var outcomes = await RaceAsync<object>(2, async i => i == 0
                ? await AcceptAsync(host, b, offer.Id)
                : await RedeemAsync(host, shopX, x.Code));

            var (accept, redeem) = (outcomes[0], outcomes[1]);
            Assert.True(accept.Succeeded ^ redeem.Succeeded, $"round {round}: accept {accept.Error?.Code ?? "ok"}, redeem {redeem.Error?.Code ?? "ok"}");
            var xNow = await host.VoucherAsync(x.Id);
            var yNow = await host.VoucherAsync(y.Id);
            var offerNow = await OfferStateAsync(host, offer.Id);
            var xExchanged = (await ActivitiesAsync(host, x.Id)).Count(e => e.Kind == VoucherActivityKind.Exchanged);
            var yExchanged = (await ActivitiesAsync(host, y.Id)).Count(e => e.Kind == VoucherActivityKind.Exchanged);
            var xRedemptions = await host.QueryAsync(db => db.Redemptions.CountAsync(r => r.VoucherId == x.Id));
            if (accept.Succeeded)
            {
                exchanges++;
                Assert.IsType<NotFoundException>(redeem.Error); // the old code died with the exchange
                Assert.Equal((b.Id, a.Id), (xNow.OwnerId, yNow.OwnerId));
                Assert.NotEqual(x.Code, xNow.Code);
                Assert.NotEqual(y.Code, yNow.Code);
                Assert.Equal((VoucherStatus.Active, 5000L), (xNow.Status, xNow.Balance));
                Assert.Equal(ExchangeOfferStatus.Accepted, offerNow.Status);
                Assert.Equal((1, 1, 0), (xExchanged, yExchanged, xRedemptions));
            }
            else
            {
                redemptions++;
                Assert.Contains(Assert.IsType<ConflictException>(accept.Error).Code, new[] { "exchange.closed", "exchange.voucher_changed" });
                Assert.Equal((a.Id, b.Id), (xNow.OwnerId, yNow.OwnerId));
                Assert.Equal((x.Code, y.Code), (xNow.Code, yNow.Code));
                Assert.Equal((VoucherStatus.Redeemed, 0L), (xNow.Status, xNow.Balance));
                Assert.Equal((VoucherStatus.Active, 5000L, y.Version), (yNow.Status, yNow.Balance, yNow.Version));
                Assert.Equal(ExchangeOfferStatus.Withdrawn, offerNow.Status);
                Assert.Equal((0, 0, 1), (xExchanged, yExchanged, xRedemptions));
            }
        }

        output.WriteLine($"{exchanges} exchanges won, {redemptions} redemptions won");
        Assert.Equal(16, exchanges + redemptions);
        Assert.Empty(await host.RunAsync<Accounts.MerchantAccountService, IReadOnlyList<string>>(m => m.VerifyAsync(shopX.MerchantId)));
    }

    [Fact]
    public async Task Two_offers_of_one_voucher_accepted_at_the_same_time_make_exactly_one_exchange()
    {
        await using var host = await TestHost.StartAsync();
        var s = await SetUpAsync(host);
        var c = await host.CreateCustomerAsync();
        var z = await BuyOneAsync(host, c, s.ShopY.Campaign);
        var toB = await OfferAsync(host, s.A, new OfferExchange(s.X.Id, s.Y.Id, null));
        var toC = await OfferAsync(host, s.A, new OfferExchange(s.X.Id, z.Id, null));

        var outcomes = await RaceAsync(4, i => i % 2 == 0 ? AcceptAsync(host, s.B, toB.Id) : AcceptAsync(host, c, toC.Id));

        var winner = Assert.Single(outcomes, o => o.Succeeded).Value!;
        Assert.All(outcomes.Where(o => !o.Succeeded), o => Assert.Equal("exchange.closed", o.Error!.Code));
        var (winnerCustomer, winnerVoucher, loserCustomer, loserVoucher) = winner.Id == toB.Id ? (s.B, s.Y, c, z) : (c, z, s.B, s.Y);
        Assert.Equal(winnerCustomer.Id, (await host.VoucherAsync(s.X.Id)).OwnerId);
        Assert.Equal(s.A.Id, (await host.VoucherAsync(winnerVoucher.Id)).OwnerId);
        var untouched = await host.VoucherAsync(loserVoucher.Id);
        Assert.Equal((loserCustomer.Id, loserVoucher.Code, loserVoucher.Version), (untouched.OwnerId, untouched.Code, untouched.Version));
        Assert.Single(await ActivitiesAsync(host, s.X.Id), a => a.Kind == VoucherActivityKind.Exchanged);
        Assert.Equal(ExchangeOfferStatus.Withdrawn, (await OfferStateAsync(host, winner.Id == toB.Id ? toC.Id : toB.Id)).Status);
    }

    [Fact]
    public async Task Redeeming_a_voucher_withdraws_its_open_offers()
    {
        await using var host = await TestHost.StartAsync();
        var s = await SetUpAsync(host);
        var c = await host.CreateCustomerAsync();
        var z = await BuyOneAsync(host, c, s.ShopX.Campaign);
        var targeted = await OfferAsync(host, s.A, new OfferExchange(s.X.Id, s.Y.Id, null));
        var campaignWide = await OfferAsync(host, s.A, new OfferExchange(s.X.Id, null, s.ShopY.Campaign.Id));
        var askingForY = await OfferAsync(host, c, new OfferExchange(z.Id, s.Y.Id, null));
        var unrelated = await OfferAsync(host, c, new OfferExchange(z.Id, null, s.ShopY.Campaign.Id));

        await RedeemAsync(host, s.ShopX, s.X.Code, 100);

        Assert.Equal(ExchangeOfferStatus.Withdrawn, (await OfferStateAsync(host, targeted.Id)).Status);
        Assert.Equal(ExchangeOfferStatus.Withdrawn, (await OfferStateAsync(host, campaignWide.Id)).Status);
        Assert.Equal(ExchangeOfferStatus.Open, (await OfferStateAsync(host, askingForY.Id)).Status);

        await RedeemAsync(host, s.ShopY, s.Y.Code, 100);

        Assert.Equal(ExchangeOfferStatus.Withdrawn, (await OfferStateAsync(host, askingForY.Id)).Status);
        Assert.Equal(ExchangeOfferStatus.Open, (await OfferStateAsync(host, unrelated.Id)).Status);
        Assert.Equal("exchange.closed", (await Assert.ThrowsAsync<ConflictException>(() => AcceptAsync(host, s.B, campaignWide.Id, s.Y.Id))).Code);
    }

    [Fact]
    public async Task Accepting_an_offer_withdraws_every_other_open_offer_on_both_vouchers()
    {
        await using var host = await TestHost.StartAsync();
        var s = await SetUpAsync(host);
        var c = await host.CreateCustomerAsync();
        var z = await BuyOneAsync(host, c, s.ShopX.Campaign);
        var offer = await OfferAsync(host, s.A, new OfferExchange(s.X.Id, s.Y.Id, null));
        var otherForX = await OfferAsync(host, s.A, new OfferExchange(s.X.Id, null, s.ShopY.Campaign.Id));
        var otherForY = await OfferAsync(host, c, new OfferExchange(z.Id, s.Y.Id, null));

        await AcceptAsync(host, s.B, offer.Id);

        Assert.Equal(ExchangeOfferStatus.Withdrawn, (await OfferStateAsync(host, otherForX.Id)).Status);
        Assert.Equal(ExchangeOfferStatus.Withdrawn, (await OfferStateAsync(host, otherForY.Id)).Status);
        Assert.Equal(ExchangeOfferStatus.Accepted, (await OfferStateAsync(host, offer.Id)).Status);
    }

    private sealed record Setup(Shop ShopX, Shop ShopY, Actor A, Actor B, Voucher X, Voucher Y);

    /// <summary>Customer A holds X (a stored-value voucher of one shop), B holds Y (of another shop).</summary>
    private static async Task<Setup> SetUpAsync(TestHost host, CampaignDefinition? definition = null)
    {
        var shopX = await OpenShopAsync(host, definition ?? StoredValue(5000));
        var shopY = await OpenShopAsync(host, definition ?? StoredValue(3000, 3000));
        var a = await host.CreateCustomerAsync();
        var b = await host.CreateCustomerAsync();
        return new Setup(shopX, shopY, a, b, await BuyOneAsync(host, a, shopX.Campaign), await BuyOneAsync(host, b, shopY.Campaign));
    }

    private static async Task AssertNothingMovedAsync(TestHost host, Setup s)
    {
        var x = await host.VoucherAsync(s.X.Id);
        var y = await host.VoucherAsync(s.Y.Id);
        Assert.Equal((s.A.Id, s.X.Code, s.X.Version), (x.OwnerId, x.Code, x.Version));
        Assert.Equal((s.B.Id, s.Y.Code, s.Y.Version), (y.OwnerId, y.Code, y.Version));
        Assert.DoesNotContain(await ActivitiesAsync(host, s.X.Id), a => a.Kind == VoucherActivityKind.Exchanged);
        Assert.DoesNotContain(await ActivitiesAsync(host, s.Y.Id), a => a.Kind == VoucherActivityKind.Exchanged);
    }

    private static Task<ExchangeOffer> OfferAsync(TestHost host, Actor actor, OfferExchange command) =>
        host.RunAsync<ExchangeService, ExchangeOffer>(e => e.OfferAsync(actor, command));

    private static Task<ExchangeOffer> AcceptAsync(TestHost host, Actor actor, Guid offerId, Guid? given = null) =>
        host.RunAsync<ExchangeService, ExchangeOffer>(e => e.AcceptAsync(actor, offerId, given));

    private static Task<ExchangeOffer> OfferStateAsync(TestHost host, Guid offerId) =>
        host.QueryAsync(db => db.ExchangeOffers.AsNoTracking().SingleAsync(o => o.Id == offerId));
}
