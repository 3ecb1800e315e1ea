using OpenMavn.Core.Orders;

namespace OpenMavn.Core.Tests;

/// <summary>The small queries the merchant HTTP API needs: periods and stable paging.</summary>
public sealed class MerchantQueryTests
{
    [Fact]
    public async Task Sales_paid_at_the_same_instant_page_without_skipping_or_repeating()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var bought = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            bought.Add((await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id)).Order.Id);
        }

        var paged = new List<Guid>();
        for (var skip = 0; skip < 4; skip++)
        {
            var page = await host.RunAsync<PurchaseService, IReadOnlyList<Order>>(s => s.ListSalesAsync(owner, merchantId, null, null, skip, 1));
            paged.Add(Assert.Single(page).Id);
        }

        Assert.Equal(bought.Order(), paged.Order());
        Assert.Equal(bought.OrderDescending(), paged);
    }
}
