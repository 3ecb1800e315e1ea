using System.Reflection;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Exchanges;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Vouchers;
using static OpenMavn.Core.Tests.AfterPurchaseKit;

namespace OpenMavn.Core.Tests;

/// <summary>Every notification Core emits carries exactly the keys of the template contract, with the right values.</summary>
public sealed class NotificationModelTests
{
    private static DateTimeOffset Utc(int year, int month, int day, int hour, int minute = 0) => new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public void Every_notification_type_has_a_contract()
    {
        var types = typeof(NotificationTypes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetRawConstantValue()!);
        Assert.Equal(types.Order(StringComparer.Ordinal), NotificationContract.Keys.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_purchase_tells_the_customer_the_last_valid_day_in_the_merchant_zone_and_the_merchant_its_sale()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync("Europe/Zurich");
        // Bought on 2 March (Zurich): 27 days later is 29 March, the 23-hour day clocks go forward.
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId, TestHost.Definition() with { ValidityDays = 27 });
        var customer = await host.CreateCustomerAsync("anna@example.ch");

        var (order, vouchers) = await host.BuyAsync(customer, campaign.Id, 2);
        var purchased = Assert.Single(await DeliveredAsync(host, NotificationTypes.VoucherPurchased, "anna@example.ch"));
        var sale = Assert.Single(await DeliveredAsync(host, NotificationTypes.MerchantSale, "owner@sonne.example.ch"));

        NotificationContract.AssertKeys(purchased);
        Assert.Equal(Utc(2026, 3, 29, 22), vouchers[0].ExpiresAt); // exclusive end: midnight CEST starting 30 March
        Assert.Equal("2026-03-29", purchased.Model["expiresOn"]);
        Assert.Equal("2026-03-29T22:00:00.0000000+00:00", purchased.Model["expiresAt"]);
        Assert.Equal("Europe/Zurich", purchased.Model["timeZone"]);
        Assert.Equal("Café Sonne", purchased.Model["merchantName"]);
        Assert.Equal("CHF 90.00", purchased.Model["amountPaid"]);
        Assert.Equal(order.Id.ToString(), purchased.Model["orderId"]);

        NotificationContract.AssertKeys(sale);
        Assert.Equal("Café Sonne", sale.Model["merchantName"]);
        Assert.Equal("Kaffee-Gutschein", sale.Model["campaignName"]); // the merchant writes German
        Assert.Equal("2", sale.Model["quantity"]);
    }

    [Theory]
    [InlineData("Europe/Zurich")]
    [InlineData("America/New_York")]
    [InlineData("Pacific/Auckland")]
    [InlineData("America/Santiago")]
    [InlineData("Australia/Lord_Howe")]
    public void The_last_valid_day_round_trips_through_the_expiry_instant_on_every_day_of_the_year(string zone)
    {
        // Includes both daylight-saving changes (23- and 25-hour days, Santiago's jump over midnight, Lord Howe's half hour).
        for (var day = new DateOnly(2026, 1, 1); day.Year == 2026; day = day.AddDays(1))
        {
            var expiresAt = CampaignService.ComputeExpiry(ValidityKind.FixedDate, day, null, zone, Utc(2025, 12, 1, 0));
            Assert.Equal(day, NotificationFormat.LastValidDay(expiresAt, zone));
        }
    }

    [Fact]
    public async Task A_gift_names_the_merchant_and_the_last_valid_day_and_the_sender_learns_which_campaign_arrived()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        var sender = await host.CreateCustomerAsync("anna@example.ch");
        await host.CreateCustomerAsync("ben@example.ch", language: "de");
        var voucher = await BuyOneAsync(host, sender, shop.Campaign);

        var gift = await host.RunAsync<GiftService, Gift>(s => s.SendAsync(sender, new SendGift(voucher.Id, "ben@example.ch")));
        var received = Assert.Single(await DeliveredAsync(host, NotificationTypes.GiftReceived, "ben@example.ch"));
        var delivered = Assert.Single(await DeliveredAsync(host, NotificationTypes.GiftDelivered, "anna@example.ch"));

        NotificationContract.AssertKeys(received);
        Assert.Equal("", received.Model["message"]);
        Assert.Equal("", received.Model["claimUrl"]);
        Assert.Equal("Café Sonne", received.Model["merchantName"]);
        Assert.Equal(NotificationFormat.Date(NotificationFormat.LastValidDay(voucher.ExpiresAt, "Europe/Zurich")), received.Model["expiresOn"]);
        Assert.Equal("2027-03-02", received.Model["expiresOn"]); // 365 days after 2 March 2026
        Assert.Equal("Europe/Zurich", received.Model["timeZone"]);
        NotificationContract.AssertKeys(delivered);
        Assert.Equal("Coffee voucher", delivered.Model["campaignName"]);
        Assert.Equal(gift.Id.ToString(), delivered.Model["giftId"]);
    }

    [Fact]
    public async Task Exchange_messages_describe_the_trade_from_the_recipients_side()
    {
        await using var host = await TestHost.StartAsync();
        var shopX = await OpenShopAsync(host, StoredValue(5000));
        var shopY = await OpenShopAsync(host, StoredValue(3000, 3000));
        var a = await host.CreateCustomerAsync("a@example.ch");
        var b = await host.CreateCustomerAsync("b@example.ch");
        var x = await BuyOneAsync(host, a, shopX.Campaign);
        var y = await BuyOneAsync(host, b, shopY.Campaign);
        var names = await host.QueryAsync(db => Task.FromResult(db.Customers.ToDictionary(c => c.Id, c => c.DisplayName!)));

        var offer = await host.RunAsync<ExchangeService, ExchangeOffer>(e => e.OfferAsync(a, new OfferExchange(x.Id, y.Id, null)));
        var offered = Assert.Single(await DeliveredAsync(host, NotificationTypes.ExchangeOffered, "b@example.ch"));
        NotificationContract.AssertKeys(offered);
        Assert.Equal((names[a.Id], "CHF 50.00", "CHF 30.00"), (offered.Model["otherName"], offered.Model["receivedValue"], offered.Model["givenValue"]));
        Assert.Equal(NotificationFormat.Instant(offer.ExpiresAt), offered.Model["offerExpiresAt"]);
        Assert.Equal("Europe/Zurich", offered.Model["timeZone"]);

        await host.RunAsync<ExchangeService, ExchangeOffer>(e => e.AcceptAsync(b, offer.Id));
        var accepted = Assert.Single(await DeliveredAsync(host, NotificationTypes.ExchangeAccepted, "a@example.ch"));
        NotificationContract.AssertKeys(accepted);
        Assert.Equal((names[b.Id], "CHF 50.00", "CHF 30.00"), (accepted.Model["otherName"], accepted.Model["givenValue"], accepted.Model["receivedValue"]));
        Assert.Equal(offer.Id.ToString(), accepted.Model["offerId"]);

        // A declined offer tells the offerer what they would have given and received.
        var back = await host.RunAsync<ExchangeService, ExchangeOffer>(e => e.OfferAsync(a, new OfferExchange(y.Id, x.Id, null)));
        await host.RunAsync<ExchangeService>(e => e.DeclineAsync(b, back.Id));
        var declined = Assert.Single(await DeliveredAsync(host, NotificationTypes.ExchangeDeclined, "a@example.ch"));
        NotificationContract.AssertKeys(declined);
        Assert.Equal((names[b.Id], "CHF 30.00", "CHF 50.00"), (declined.Model["otherName"], declined.Model["givenValue"], declined.Model["receivedValue"]));
        Assert.Equal("Coffee voucher", declined.Model["givenCampaignName"]);
    }

    [Fact]
    public async Task A_redemption_says_whether_the_voucher_is_used_up()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000));
        var customer = await host.CreateCustomerAsync("anna@example.ch");
        var voucher = await BuyOneAsync(host, customer, shop.Campaign);

        await RedeemAsync(host, shop, voucher.Code, 2000);
        var partly = Assert.Single(await DeliveredAsync(host, NotificationTypes.VoucherRedeemed, "anna@example.ch"));
        await RedeemAsync(host, shop, voucher.Code, 3000);
        var all = (await DeliveredAsync(host, NotificationTypes.VoucherRedeemed, "anna@example.ch")).Single(m => m.Model["usedUp"] == "yes");

        NotificationContract.AssertKeys(partly);
        Assert.Equal(("CHF 20.00", "CHF 30.00", ""), (partly.Model["amount"], partly.Model["balance"], partly.Model["usedUp"]));
        Assert.Equal(("Café Sonne", "Europe/Zurich"), (partly.Model["merchantName"], partly.Model["timeZone"]));
        NotificationContract.AssertKeys(all);
        Assert.Equal("CHF 0.00", all.Model["balance"]);
    }

    [Fact]
    public async Task A_refund_names_the_merchant_zone()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync("America/New_York");
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId, TestHost.Definition(currency: "USD"));
        var customer = await host.CreateCustomerAsync("anna@example.ch");
        var (_, vouchers) = await host.BuyAsync(customer, campaign.Id);

        var refund = await host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, vouchers[0].Id, "Closed for renovation"));
        var message = Assert.Single(await DeliveredAsync(host, NotificationTypes.RefundCompleted, "anna@example.ch"));

        NotificationContract.AssertKeys(message);
        Assert.Equal(("USD 45.00", "Closed for renovation", "America/New_York"), (message.Model["amount"], message.Model["reason"], message.Model["timeZone"]));
        Assert.Equal(refund.Id.ToString(), message.Model["refundId"]);
    }

    [Fact]
    public async Task A_kyc_decision_carries_yes_no_flags_and_an_invitation_carries_the_link()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        await host.Outbox.DrainAsync();
        var approved = Assert.Single(host.Sent.OfType(NotificationTypes.MerchantKycDecided));
        NotificationContract.AssertKeys(approved);
        Assert.Equal(("Approved", "yes", ""), (approved.Model["status"], approved.Model["approved"], approved.Model["rejected"]));

        var other = Actor.Member(Guid.NewGuid());
        var rejectedMerchant = await host.RunAsync<MerchantService, Merchant>(s => s.RegisterAsync(other, new RegisterMerchant("Bar Mond", "owner@mond.example.ch", "CH", "Europe/Zurich", "en")));
        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(other, rejectedMerchant.Id));
        await host.RunAsync<MerchantService>(s => s.RejectAsync(Actor.Admin(Guid.NewGuid()), rejectedMerchant.Id, "Documents unreadable"));
        var rejected = Assert.Single(await DeliveredAsync(host, NotificationTypes.MerchantKycDecided, "owner@mond.example.ch"));
        NotificationContract.AssertKeys(rejected);
        Assert.Equal(("Rejected", "", "yes", "Documents unreadable"), (rejected.Model["status"], rejected.Model["approved"], rejected.Model["rejected"], rejected.Model["comment"]));

        await host.RunAsync<MerchantService>(s => s.AddMemberAsync(owner, merchantId, Guid.NewGuid(), "new@example.ch", MerchantRole.Staff, invitationLink: "https://shop.example.ch/invite?t=abc"));
        var invited = Assert.Single(await DeliveredAsync(host, NotificationTypes.StaffInvited, "new@example.ch"));
        NotificationContract.AssertKeys(invited);
        Assert.Equal(("Café Sonne", "Staff", "https://shop.example.ch/invite?t=abc"), (invited.Model["merchantName"], invited.Model["role"], invited.Model["link"]));
    }
}
