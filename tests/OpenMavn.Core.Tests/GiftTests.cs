using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Vouchers;
using static OpenMavn.Core.Tests.AfterPurchaseKit;

namespace OpenMavn.Core.Tests;

public sealed class GiftTests
{
    [Fact]
    public async Task A_gift_to_an_existing_customer_moves_the_voucher_at_once_with_a_new_code()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync("anna@example.ch");
        var friend = await host.CreateCustomerAsync("ben@example.ch");
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);

        var gift = await SendAsync(host, sender, new SendGift(voucher.Id, "Ben@Example.ch", "Happy birthday!"));

        Assert.Equal(GiftStatus.Completed, gift.Status);
        Assert.Equal(friend.Id, gift.RecipientId);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(friend.Id, after.OwnerId);
        Assert.NotEqual(voucher.Code, after.Code);
        Assert.Null(after.PendingGiftId);
        Assert.Equal(VoucherStatus.Active, after.Status);
        Assert.Equal(5000, after.Balance);

        // The code the sender still knows is worthless now; the new one works.
        var old = await Assert.ThrowsAsync<NotFoundException>(() => RedeemAsync(host, shop, voucher.Code));
        Assert.Equal(RedemptionService.NotRedeemableHere, old.Message);
        var preview = await host.RunAsync<RedemptionService, RedemptionPreview>(s => s.PreviewAsync(shop.Staff, shop.MerchantId, after.Code));
        Assert.Equal(voucher.Id, preview.VoucherId);

        var activity = await ActivitiesAsync(host, voucher.Id);
        Assert.Equal(
            new[] { VoucherActivityKind.Issued, VoucherActivityKind.GiftSent, VoucherActivityKind.Transferred },
            activity.Select(a => a.Kind));
        var transferred = activity[^1];
        Assert.Equal(sender.Id, transferred.FromOwnerId);
        Assert.Equal(friend.Id, transferred.ToOwnerId);
        Assert.Equal(gift.Id, transferred.ReferenceId);

        Assert.DoesNotContain(await host.RunAsync<VoucherService, IReadOnlyList<Voucher>>(s => s.ListMineAsync(sender)), v => v.Id == voucher.Id);
        Assert.Contains(await host.RunAsync<VoucherService, IReadOnlyList<Voucher>>(s => s.ListMineAsync(friend)), v => v.Id == voucher.Id);
        var received = Assert.Single(await DeliveredAsync(host, NotificationTypes.GiftReceived, "ben@example.ch"));
        Assert.Equal("", received.Model["claimUrl"]); // a recipient with an account needs no link
        Assert.Equal("Happy birthday!", received.Model["message"]);
        Assert.Single(await DeliveredAsync(host, NotificationTypes.GiftDelivered, "anna@example.ch"));
    }

    [Fact]
    public async Task A_gift_to_an_unknown_email_holds_the_voucher_until_the_recipient_signs_up_and_claims_it()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync("anna@example.ch");
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);

        var gift = await SendAsync(host, sender, new SendGift(voucher.Id, "newcomer@example.ch", "For you"));

        Assert.Equal(GiftStatus.AwaitingClaim, gift.Status);
        var held = await host.VoucherAsync(voucher.Id);
        Assert.Equal(sender.Id, held.OwnerId);
        Assert.Equal(gift.Id, held.PendingGiftId);
        Assert.Equal(voucher.Code, held.Code);
        var redeem = await Assert.ThrowsAsync<ConflictException>(() => RedeemAsync(host, shop, voucher.Code));
        Assert.Equal("voucher.gift_pending", redeem.Code);

        var message = Assert.Single(await DeliveredAsync(host, NotificationTypes.GiftReceived, "newcomer@example.ch"));
        Assert.StartsWith("https://localhost/gifts/claim?token=", message.Model["claimUrl"], StringComparison.Ordinal);
        var token = TokenFrom(message);
        Assert.True(token.Length >= 40, "the claim token carries at least 256 bits");

        // Only a hash of the token is stored.
        var stored = await host.QueryAsync(db => db.Gifts.AsNoTracking().SingleAsync());
        Assert.Equal(GiftService.HashToken(token), stored.ClaimTokenHash);
        Assert.Null(stored.ProtectedClaimToken);

        var newcomer = await host.CreateCustomerAsync("newcomer@example.ch");
        var claimed = await host.RunAsync<GiftService, Voucher>(s => s.ClaimAsync(newcomer, token));

        Assert.Equal(newcomer.Id, claimed.OwnerId);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(newcomer.Id, after.OwnerId);
        Assert.NotEqual(voucher.Code, after.Code);
        Assert.Null(after.PendingGiftId);
        var closed = await host.QueryAsync(db => db.Gifts.AsNoTracking().SingleAsync());
        Assert.Equal(GiftStatus.Completed, closed.Status);
        Assert.Equal(newcomer.Id, closed.RecipientId);
        var transferred = (await ActivitiesAsync(host, voucher.Id))[^1];
        Assert.Equal(VoucherActivityKind.Transferred, transferred.Kind);
        Assert.Equal((sender.Id, newcomer.Id), (transferred.FromOwnerId!.Value, transferred.ToOwnerId!.Value));
        Assert.Single(await DeliveredAsync(host, NotificationTypes.GiftDelivered, "anna@example.ch"));
        await Assert.ThrowsAsync<NotFoundException>(() => RedeemAsync(host, shop, voucher.Code));
        Assert.Equal(voucher.Id, (await RedeemAsync(host, shop, after.Code)).VoucherId);
    }

    [Fact]
    public async Task A_claim_link_works_only_once()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync("anna@example.ch");
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);
        await SendAsync(host, sender, new SendGift(voucher.Id, "newcomer@example.ch"));
        var token = TokenFrom(Assert.Single(await DeliveredAsync(host, NotificationTypes.GiftReceived, "newcomer@example.ch")));
        var newcomer = await host.CreateCustomerAsync("newcomer@example.ch");
        var other = await host.CreateCustomerAsync();
        var claimed = await host.RunAsync<GiftService, Voucher>(s => s.ClaimAsync(newcomer, token));

        var again = await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync<GiftService, Voucher>(s => s.ClaimAsync(newcomer, token)));
        var someoneElse = await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync<GiftService, Voucher>(s => s.ClaimAsync(other, token)));

        Assert.Equal("gift.closed", again.Code);
        Assert.Equal("gift.closed", someoneElse.Code);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(newcomer.Id, after.OwnerId);
        Assert.Equal(claimed.Code, after.Code);
        Assert.Single(await ActivitiesAsync(host, voucher.Id), a => a.Kind == VoucherActivityKind.Transferred);
    }

    [Fact]
    public async Task Parallel_claims_with_one_link_give_the_voucher_to_exactly_one_customer()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync();
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);
        await SendAsync(host, sender, new SendGift(voucher.Id, "newcomer@example.ch"));
        var token = TokenFrom(Assert.Single(await DeliveredAsync(host, NotificationTypes.GiftReceived, "newcomer@example.ch")));
        var claimers = new List<Actor>();
        for (var i = 0; i < 8; i++)
        {
            claimers.Add(await host.CreateCustomerAsync());
        }

        var outcomes = await RaceAsync(claimers.Count, i => host.RunAsync<GiftService, Voucher>(s => s.ClaimAsync(claimers[i], token)));

        var winner = Assert.Single(outcomes, o => o.Succeeded);
        Assert.All(outcomes.Where(o => !o.Succeeded), o => Assert.Equal("gift.closed", o.Error!.Code));
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(winner.Value!.OwnerId, after.OwnerId);
        Assert.Single(await ActivitiesAsync(host, voucher.Id), a => a.Kind == VoucherActivityKind.Transferred);
    }

    [Fact]
    public async Task A_gift_cannot_be_claimed_once_its_voucher_has_expired_even_before_the_expiry_job_ran()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync();
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);
        host.Time.SetUtcNow(voucher.ExpiresAt - TimeSpan.FromHours(1));
        await SendAsync(host, sender, new SendGift(voucher.Id, "newcomer@example.ch"));
        var token = TokenFrom(Assert.Single(await DeliveredAsync(host, NotificationTypes.GiftReceived, "newcomer@example.ch")));
        var newcomer = await host.CreateCustomerAsync("newcomer@example.ch");
        host.Time.SetUtcNow(voucher.ExpiresAt);

        var error = await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync<GiftService, Voucher>(s => s.ClaimAsync(newcomer, token)));

        Assert.Equal("voucher.expired", error.Code);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal((sender.Id, voucher.Code), (after.OwnerId, after.Code));
        Assert.DoesNotContain(await ActivitiesAsync(host, voucher.Id), a => a.Kind == VoucherActivityKind.Transferred);

        // The expiry job then closes the gift for good.
        Assert.Equal(1, (await RunJobsAsync(host)).VouchersExpired);
        Assert.Equal(GiftStatus.Cancelled, (await host.QueryAsync(db => db.Gifts.AsNoTracking().SingleAsync())).Status);
    }

    [Fact]
    public async Task A_wrong_claim_token_is_not_found()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync();
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);
        await SendAsync(host, sender, new SendGift(voucher.Id, "newcomer@example.ch"));
        var token = TokenFrom(Assert.Single(await DeliveredAsync(host, NotificationTypes.GiftReceived, "newcomer@example.ch")));
        var newcomer = await host.CreateCustomerAsync("newcomer@example.ch");
        var wrong = (token[0] == 'A' ? "B" : "A") + token[1..];

        var error = await Assert.ThrowsAsync<NotFoundException>(() => host.RunAsync<GiftService, Voucher>(s => s.ClaimAsync(newcomer, wrong)));
        var empty = await Assert.ThrowsAsync<ValidationFailedException>(() => host.RunAsync<GiftService, Voucher>(s => s.ClaimAsync(newcomer, " ")));

        Assert.Equal("gift.not_found", error.Code);
        Assert.Contains("token", empty.Errors.Keys);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(sender.Id, after.OwnerId);
        Assert.NotNull(after.PendingGiftId);
    }

    [Fact]
    public async Task The_sender_cannot_claim_their_own_gift()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync();
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);
        var gift = await SendAsync(host, sender, new SendGift(voucher.Id, "newcomer@example.ch"));
        var token = TokenFrom(Assert.Single(await DeliveredAsync(host, NotificationTypes.GiftReceived, "newcomer@example.ch")));

        var error = await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync<GiftService, Voucher>(s => s.ClaimAsync(sender, token)));

        Assert.Equal("gift.own", error.Code);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(voucher.Code, after.Code);
        Assert.Equal(gift.Id, after.PendingGiftId);
        Assert.Equal(GiftStatus.AwaitingClaim, (await host.QueryAsync(db => db.Gifts.AsNoTracking().SingleAsync())).Status);
    }

    [Fact]
    public async Task A_voucher_of_a_non_transferable_campaign_cannot_be_gifted()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, TestHost.Definition() with { Transferable = false });
        var sender = await host.CreateCustomerAsync();
        await host.CreateCustomerAsync("ben@example.ch");
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);

        var known = await Assert.ThrowsAsync<ConflictException>(() => SendAsync(host, sender, new SendGift(voucher.Id, "ben@example.ch")));
        var unknown = await Assert.ThrowsAsync<ConflictException>(() => SendAsync(host, sender, new SendGift(voucher.Id, "newcomer@example.ch")));

        Assert.Equal("voucher.not_transferable", known.Code);
        Assert.Equal("voucher.not_transferable", unknown.Code);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(sender.Id, after.OwnerId);
        Assert.Null(after.PendingGiftId);
        Assert.Equal(voucher.Code, after.Code);
        Assert.Equal(0, await host.QueryAsync(db => db.Gifts.CountAsync()));
    }

    [Fact]
    public async Task A_gift_with_a_delivery_date_waits_for_the_delivery_job()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync("anna@example.ch");
        var friend = await host.CreateCustomerAsync("ben@example.ch");
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);
        var deliverAt = host.Time.GetUtcNow().AddDays(3);

        var gift = await SendAsync(host, sender, new SendGift(voucher.Id, "ben@example.ch", "See you soon", deliverAt));

        Assert.Equal(GiftStatus.Scheduled, gift.Status);
        var held = await host.VoucherAsync(voucher.Id);
        Assert.Equal(sender.Id, held.OwnerId);
        Assert.Equal(gift.Id, held.PendingGiftId);
        Assert.Equal("voucher.gift_pending", (await Assert.ThrowsAsync<ConflictException>(() => RedeemAsync(host, shop, voucher.Code))).Code);

        host.Time.SetUtcNow(deliverAt - TimeSpan.FromSeconds(1));
        Assert.Equal(0, (await RunJobsAsync(host)).GiftsDelivered);
        Assert.Equal(GiftStatus.Scheduled, (await host.QueryAsync(db => db.Gifts.AsNoTracking().SingleAsync())).Status);
        Assert.Equal(sender.Id, (await host.VoucherAsync(voucher.Id)).OwnerId);
        Assert.Empty(await DeliveredAsync(host, NotificationTypes.GiftReceived, "ben@example.ch"));

        host.Time.SetUtcNow(deliverAt);
        Assert.Equal(1, (await RunJobsAsync(host)).GiftsDelivered);
        Assert.Equal(0, (await RunJobsAsync(host)).GiftsDelivered);

        var delivered = await host.QueryAsync(db => db.Gifts.AsNoTracking().SingleAsync());
        Assert.Equal(GiftStatus.Completed, delivered.Status);
        Assert.Null(delivered.ProtectedClaimToken);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(friend.Id, after.OwnerId);
        Assert.NotEqual(voucher.Code, after.Code);
        Assert.Null(after.PendingGiftId);
        Assert.Single(await DeliveredAsync(host, NotificationTypes.GiftReceived, "ben@example.ch"));
        Assert.Single(await ActivitiesAsync(host, voucher.Id), a => a.Kind == VoucherActivityKind.Transferred);
    }

    [Fact]
    public async Task A_scheduled_gift_to_an_unknown_email_sends_its_claim_link_only_at_delivery()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync();
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);
        var deliverAt = host.Time.GetUtcNow().AddHours(20);
        await SendAsync(host, sender, new SendGift(voucher.Id, "newcomer@example.ch", DeliverAt: deliverAt));

        Assert.Empty(await DeliveredAsync(host, NotificationTypes.GiftReceived, "newcomer@example.ch"));
        Assert.Equal(0, await host.RunAsync<GiftService, int>(s => s.DeliverDueAsync()));
        var waiting = await host.QueryAsync(db => db.Gifts.AsNoTracking().SingleAsync());
        Assert.NotNull(waiting.ProtectedClaimToken);

        host.Time.Advance(TimeSpan.FromHours(21));
        Assert.Equal(1, await host.RunAsync<GiftService, int>(s => s.DeliverDueAsync()));

        var token = TokenFrom(Assert.Single(await DeliveredAsync(host, NotificationTypes.GiftReceived, "newcomer@example.ch")));
        Assert.DoesNotContain(token, waiting.ProtectedClaimToken, StringComparison.Ordinal);
        var delivered = await host.QueryAsync(db => db.Gifts.AsNoTracking().SingleAsync());
        Assert.Equal(GiftStatus.AwaitingClaim, delivered.Status);
        Assert.Null(delivered.ProtectedClaimToken);
        Assert.Equal(GiftService.HashToken(token), delivered.ClaimTokenHash);
        var newcomer = await host.CreateCustomerAsync("newcomer@example.ch");
        var claimed = await host.RunAsync<GiftService, Voucher>(s => s.ClaimAsync(newcomer, token));
        Assert.Equal(newcomer.Id, claimed.OwnerId);
    }

    [Fact]
    public async Task The_sender_cancels_a_pending_gift_and_the_voucher_is_free_again()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync();
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);
        var gift = await SendAsync(host, sender, new SendGift(voucher.Id, "newcomer@example.ch"));
        var token = TokenFrom(Assert.Single(await DeliveredAsync(host, NotificationTypes.GiftReceived, "newcomer@example.ch")));

        await host.RunAsync<GiftService>(s => s.CancelAsync(sender, gift.Id));

        Assert.Equal(GiftStatus.Cancelled, (await host.QueryAsync(db => db.Gifts.AsNoTracking().SingleAsync())).Status);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Null(after.PendingGiftId);
        Assert.Equal(sender.Id, after.OwnerId);
        Assert.Equal(VoucherActivityKind.GiftCancelled, (await ActivitiesAsync(host, voucher.Id))[^1].Kind);

        // The link is dead, cancelling again is refused, and the voucher can be used (or gifted) again.
        var newcomer = await host.CreateCustomerAsync("newcomer@example.ch");
        Assert.Equal("gift.closed", (await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync<GiftService, Voucher>(s => s.ClaimAsync(newcomer, token)))).Code);
        Assert.Equal("gift.closed", (await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync<GiftService>(s => s.CancelAsync(sender, gift.Id)))).Code);
        Assert.Equal(sender.Id, (await host.VoucherAsync(voucher.Id)).OwnerId);
        var second = await SendAsync(host, sender, new SendGift(voucher.Id, "newcomer@example.ch"));
        Assert.Equal(GiftStatus.Completed, second.Status);
        Assert.Equal(newcomer.Id, (await host.VoucherAsync(voucher.Id)).OwnerId);
    }

    [Fact]
    public async Task A_cancelled_scheduled_gift_is_never_delivered()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync();
        var friend = await host.CreateCustomerAsync("ben@example.ch");
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);
        var gift = await SendAsync(host, sender, new SendGift(voucher.Id, "ben@example.ch", DeliverAt: host.Time.GetUtcNow().AddDays(1)));

        await host.RunAsync<GiftService>(s => s.CancelAsync(sender, gift.Id));
        host.Time.Advance(TimeSpan.FromDays(2));

        Assert.Equal(0, (await RunJobsAsync(host)).GiftsDelivered);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(sender.Id, after.OwnerId);
        Assert.Null(after.PendingGiftId);
        Assert.NotEqual(friend.Id, after.OwnerId);
        var cancelled = await host.QueryAsync(db => db.Gifts.AsNoTracking().SingleAsync());
        Assert.Equal(GiftStatus.Cancelled, cancelled.Status);
        Assert.Null(cancelled.ProtectedClaimToken);
        Assert.Empty(await DeliveredAsync(host, NotificationTypes.GiftReceived, "ben@example.ch"));
    }

    [Fact]
    public async Task Only_the_sender_can_cancel_a_gift()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync();
        var stranger = await host.CreateCustomerAsync();
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);
        var gift = await SendAsync(host, sender, new SendGift(voucher.Id, "newcomer@example.ch"));

        await Assert.ThrowsAsync<NotFoundException>(() => host.RunAsync<GiftService>(s => s.CancelAsync(stranger, gift.Id)));
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<GiftService>(s => s.CancelAsync(shop.Owner, gift.Id)));

        Assert.Equal(GiftStatus.AwaitingClaim, (await host.QueryAsync(db => db.Gifts.AsNoTracking().SingleAsync())).Status);
        Assert.Equal(gift.Id, (await host.VoucherAsync(voucher.Id)).PendingGiftId);
    }

    [Fact]
    public async Task A_customer_cannot_gift_someone_elses_voucher()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var owner = await host.CreateCustomerAsync();
        var thief = await host.CreateCustomerAsync();
        await host.CreateCustomerAsync("accomplice@example.ch");
        var voucher = await BuyOneAsync(host, owner, shop.Campaign);

        await Assert.ThrowsAsync<NotFoundException>(() => SendAsync(host, thief, new SendGift(voucher.Id, "accomplice@example.ch")));
        await Assert.ThrowsAsync<ForbiddenException>(() => SendAsync(host, shop.Staff, new SendGift(voucher.Id, "accomplice@example.ch")));

        var after = await host.VoucherAsync(voucher.Id);
        Assert.Equal(owner.Id, after.OwnerId);
        Assert.Equal(voucher.Code, after.Code);
        Assert.Null(after.PendingGiftId);
        Assert.Equal(0, await host.QueryAsync(db => db.Gifts.CountAsync()));
    }

    [Theory]
    [InlineData("anna@example.ch")]
    [InlineData("Anna@Example.CH")]
    public async Task A_customer_cannot_gift_a_voucher_to_themselves(string ownAddress)
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync("anna@example.ch");
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => SendAsync(host, sender, new SendGift(voucher.Id, ownAddress)));

        Assert.Contains("recipientEmail", error.Errors.Keys);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Null(after.PendingGiftId);
        Assert.Equal(voucher.Code, after.Code);
        Assert.Equal(0, await host.QueryAsync(db => db.Gifts.CountAsync()));
    }

    [Fact]
    public async Task A_redeemed_voucher_cannot_be_gifted()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync();
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);
        await RedeemAsync(host, shop, voucher.Code);

        var error = await Assert.ThrowsAsync<ConflictException>(() => SendAsync(host, sender, new SendGift(voucher.Id, "newcomer@example.ch")));

        Assert.Equal("voucher.not_active", error.Code);
        Assert.Equal(0, await host.QueryAsync(db => db.Gifts.CountAsync()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Concurrent_gifts_of_one_voucher_let_exactly_one_succeed(bool recipientsHaveAccounts)
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync();
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);
        var recipients = Enumerable.Range(0, 10).Select(i => $"friend{i}@example.ch").ToArray();
        if (recipientsHaveAccounts)
        {
            foreach (var email in recipients)
            {
                await host.CreateCustomerAsync(email);
            }
        }

        var outcomes = await RaceAsync(recipients.Length, i => SendAsync(host, sender, new SendGift(voucher.Id, recipients[i])));

        var winner = Assert.Single(outcomes, o => o.Succeeded).Value!;
        var gift = await host.QueryAsync(db => db.Gifts.AsNoTracking().SingleAsync());
        Assert.Equal(winner.Id, gift.Id);
        var after = await host.VoucherAsync(voucher.Id);
        Assert.Single(await ActivitiesAsync(host, voucher.Id), a => a.Kind == VoucherActivityKind.GiftSent);
        if (recipientsHaveAccounts)
        {
            Assert.Equal(GiftStatus.Completed, gift.Status);
            Assert.Equal(gift.RecipientId, after.OwnerId);
            Assert.Single(await ActivitiesAsync(host, voucher.Id), a => a.Kind == VoucherActivityKind.Transferred);
            Assert.All(outcomes.Where(o => !o.Succeeded), o => Assert.IsType<NotFoundException>(o.Error));
        }
        else
        {
            Assert.Equal(GiftStatus.AwaitingClaim, gift.Status);
            Assert.Equal(gift.Id, after.PendingGiftId);
            Assert.Equal(sender.Id, after.OwnerId);
            Assert.All(outcomes.Where(o => !o.Succeeded), o => Assert.Equal("voucher.gift_pending", o.Error!.Code));
        }
    }

    private static Task<Gift> SendAsync(TestHost host, Actor sender, SendGift command) =>
        host.RunAsync<GiftService, Gift>(s => s.SendAsync(sender, command));
}
