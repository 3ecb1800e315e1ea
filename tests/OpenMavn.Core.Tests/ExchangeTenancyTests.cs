using OpenMavn.Core.Exchanges;
using static OpenMavn.Core.Tests.AfterPurchaseKit;

namespace OpenMavn.Core.Tests;

/// <summary>An offer addressed to others is "not found" to a customer in every state, open or closed.</summary>
public sealed class ExchangeTenancyTests
{
    [Fact]
    public async Task An_outsider_is_told_a_closed_offer_does_not_exist_rather_than_its_state()
    {
        await using var host = await TestHost.StartAsync();
        var shopX = await OpenShopAsync(host);
        var shopY = await OpenShopAsync(host);
        var a = await host.CreateCustomerAsync();
        var b = await host.CreateCustomerAsync();
        var outsider = await host.CreateCustomerAsync();
        var x = await BuyOneAsync(host, a, shopX.Campaign);
        var y = await BuyOneAsync(host, b, shopY.Campaign);

        var specific = await host.RunAsync<ExchangeService, ExchangeOffer>(e => e.OfferAsync(a, new OfferExchange(x.Id, y.Id, null)));
        await host.RunAsync<ExchangeService>(e => e.DeclineAsync(b, specific.Id));
        await AssertNotFoundAsync(host, e => e.AcceptAsync(outsider, specific.Id));
        await AssertNotFoundAsync(host, e => e.DeclineAsync(outsider, specific.Id));
        await AssertNotFoundAsync(host, e => e.WithdrawAsync(outsider, specific.Id));
        await AssertNotFoundAsync(host, e => e.WithdrawAsync(b, specific.Id));
        await AssertConflictAsync(host, e => e.WithdrawAsync(a, specific.Id), "exchange.closed");

        // A campaign-wide offer is shown to every holder of the campaign: anyone may try it and learn it is gone,
        // but only its offerer withdraws it.
        var wide = await host.RunAsync<ExchangeService, ExchangeOffer>(e => e.OfferAsync(a, new OfferExchange(x.Id, null, shopY.Campaign.Id)));
        await host.RunAsync<ExchangeService, ExchangeOffer>(e => e.AcceptAsync(b, wide.Id, y.Id));
        await AssertConflictAsync(host, e => e.AcceptAsync(outsider, wide.Id, y.Id), "exchange.closed");
        await AssertNotFoundAsync(host, e => e.WithdrawAsync(outsider, wide.Id));
        await AssertNotFoundAsync(host, e => e.DeclineAsync(b, wide.Id));
        await AssertConflictAsync(host, e => e.WithdrawAsync(a, wide.Id), "exchange.closed");
    }

    private static async Task AssertNotFoundAsync(TestHost host, Func<ExchangeService, Task> work)
    {
        var error = await Assert.ThrowsAsync<NotFoundException>(() => host.RunAsync(work));
        Assert.Equal("exchange.not_found", error.Code);
    }

    private static async Task AssertConflictAsync(TestHost host, Func<ExchangeService, Task> work, string code)
    {
        var error = await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync(work));
        Assert.Equal(code, error.Code);
    }
}
