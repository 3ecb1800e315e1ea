using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Tests;

public sealed class SmokeTests
{
    [Fact]
    public async Task A_customer_buys_and_pays_and_gets_an_active_voucher()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var customer = await host.CreateCustomerAsync();

        var (order, vouchers) = await host.BuyAsync(customer, campaign.Id, 2);

        Assert.Equal(Orders.OrderStatus.Paid, order.Status);
        Assert.Equal(2, vouchers.Count);
        Assert.All(vouchers, v => Assert.Equal(VoucherStatus.Active, v.Status));
        Assert.All(vouchers, v => Assert.Equal(customer.Id, v.OwnerId));
    }
}
