using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Customers;
using OpenMavn.Core.Exchanges;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

/// <summary>An approved merchant with a published stored-value campaign, driven through Core's services.</summary>
internal sealed class Shop(LedgerHost host, Actor owner, Guid merchantId, Campaign campaign)
{
    public Actor Owner { get; } = owner;

    public Guid MerchantId { get; } = merchantId;

    public Campaign Campaign { get; } = campaign;

    public static async Task<Shop> OpenAsync(LedgerHost host, int supply = 100, long faceValue = 5000)
    {
        var owner = Actor.Member(Guid.NewGuid());
        var admin = Actor.Admin(Guid.NewGuid());
        var merchant = await host.RunAsync<MerchantService, Merchant>(s => s.RegisterAsync(owner, new RegisterMerchant("Café Sonne", "owner@sonne.example.ch", "CH", "Europe/Zurich", "de")));
        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner, merchant.Id));
        await host.RunAsync<MerchantService>(s => s.ApproveAsync(admin, merchant.Id));
        await host.RunAsync<MerchantService>(s => s.ConnectPaymentAccountAsync(owner, merchant.Id, "sandbox", "cafe-sonne", "sk_test_secret_123"));
        var definition = new CampaignDefinition(
            [new CampaignText("de", "Kaffee-Gutschein"), new CampaignText("en", "Coffee voucher")],
            "de",
            "CHF",
            faceValue,
            faceValue - 500,
            VoucherKind.StoredValue,
            supply,
            PerCustomerLimit: null,
            SalesStartAt: null,
            SalesEndAt: null,
            ValidityKind.DaysAfterPurchase,
            ValidUntil: null,
            ValidityDays: 365,
            Transferable: true,
            Exchangeable: true);
        var campaign = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchant.Id, definition));
        await host.RunAsync<CampaignService>(s => s.PublishAsync(owner, campaign.Id));
        return new Shop(host, owner, merchant.Id, campaign);
    }

    public async Task<Actor> CustomerAsync(string email)
    {
        var id = Guid.NewGuid();
        await host.RunAsync<CustomerService, Customer>(s => s.RegisterAsync(id, email, "Customer " + id.ToString("N")[..6], "en"));
        return Actor.Customer(id);
    }

    public async Task<IReadOnlyList<Voucher>> BuyAsync(Actor customer, int quantity)
    {
        var order = await host.RunAsync<PurchaseService, Order>(s => s.PlaceOrderAsync(customer, new PlaceOrder(Campaign.Id, quantity, Guid.NewGuid().ToString())));
        await host.Services.GetRequiredService<SandboxPaymentProvider>().ConfirmAsync(order.ProviderPaymentId!);
        return await host.QueryAsync(db => db.Vouchers.AsNoTracking().Where(v => v.OrderId == order.Id).OrderBy(v => v.IssuedAt).ThenBy(v => v.Id).ToListAsync());
    }

    public async Task GiftAsync(Actor from, Guid voucherId, Actor to, string toEmail)
    {
        await host.RunAsync<GiftService, Gift>(s => s.SendAsync(from, new SendGift(voucherId, toEmail)));
        await host.Outbox.DrainAsync();
        var message = host.Sent.Messages.Last(m => m.Type == NotificationTypes.GiftReceived && m.Recipient.Email == toEmail);
        if (message.Model["claimUrl"].Length == 0)
        {
            return; // a recipient with an account gets the voucher at once
        }

        var url = new Uri(message.Model["claimUrl"]);
        var pair = url.Query.TrimStart('?').Split('&').Single(p => p.StartsWith("token=", StringComparison.Ordinal));
        var token = Uri.UnescapeDataString(pair["token=".Length..]);
        await host.RunAsync<GiftService, Voucher>(s => s.ClaimAsync(to, token));
    }

    public async Task ExchangeAsync(Actor a, Guid offered, Actor b, Guid requested)
    {
        var offer = await host.RunAsync<ExchangeService, ExchangeOffer>(s => s.OfferAsync(a, new OfferExchange(offered, requested, null)));
        await host.RunAsync<ExchangeService, ExchangeOffer>(s => s.AcceptAsync(b, offer.Id));
    }

    public async Task<RedemptionReceipt> RedeemAsync(Guid voucherId, long? amount)
    {
        var voucher = await host.QueryAsync(db => db.Vouchers.AsNoTracking().FirstAsync(v => v.Id == voucherId));
        return await host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(Owner, MerchantId, voucher.Code, amount, Guid.NewGuid().ToString()));
    }

    public Task RefundAsync(Guid voucherId) => host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(Owner, voucherId, "Event cancelled"));
}
