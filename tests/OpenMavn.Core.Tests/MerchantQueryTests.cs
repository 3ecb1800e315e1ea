using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Tests;

/// <summary>The small queries the merchant HTTP API needs: a campaign within its merchant, periods and stable paging.</summary>
public sealed class MerchantQueryTests
{
    [Fact]
    public async Task A_campaign_is_read_within_its_merchant_only_and_outsiders_are_refused_before_any_lookup()
    {
        await using var host = await TestHost.StartAsync();
        var (ownerA, a) = await host.CreateApprovedMerchantAsync();
        var (ownerB, b) = await host.CreateApprovedMerchantAsync();
        var draftA = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(ownerA, a, TestHost.Definition()));
        var campaignB = await host.CreatePublishedCampaignAsync(ownerB, b);

        var read = await host.RunAsync<CampaignService, Campaign>(s => s.GetForMerchantAsync(ownerA, a, draftA.Id));
        Assert.Equal(CampaignState.Draft, read.State);
        Assert.Equal(2, read.Translations.Count);
        Assert.Equal(draftA.Id, (await host.RunAsync<CampaignService, Campaign>(s => s.GetForMerchantAsync(Actor.Admin(Guid.NewGuid()), a, draftA.Id))).Id);

        var elsewhere = await Assert.ThrowsAsync<NotFoundException>(() => host.RunAsync<CampaignService, Campaign>(s => s.GetForMerchantAsync(ownerA, a, campaignB.Id)));
        Assert.Equal("campaign.not_found", elsewhere.Code);
        await Assert.ThrowsAsync<NotFoundException>(() => host.RunAsync<CampaignService, Campaign>(s => s.GetForMerchantAsync(ownerA, a, Guid.NewGuid())));

        // Tenancy first: an outsider is refused whether or not the campaign exists there.
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<CampaignService, Campaign>(s => s.GetForMerchantAsync(ownerA, b, campaignB.Id)));
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<CampaignService, Campaign>(s => s.GetForMerchantAsync(ownerA, b, Guid.NewGuid())));
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<CampaignService, Campaign>(s => s.GetForMerchantAsync(Actor.Customer(Guid.NewGuid()), b, campaignB.Id)));
    }

    [Fact]
    public async Task Redemptions_are_listed_by_period_newest_first_and_paging_neither_skips_nor_repeats()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var customer = await host.CreateCustomerAsync();
        var (_, vouchers) = await host.BuyAsync(customer, campaign.Id, quantity: 5);

        // Two redemptions at the very same instant, then three a minute apart.
        var at = new List<DateTimeOffset>();
        for (var i = 0; i < vouchers.Count; i++)
        {
            if (i >= 2)
            {
                host.Time.Advance(TimeSpan.FromMinutes(1));
            }

            var voucher = vouchers[i];
            await host.RunAsync<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(owner, merchantId, voucher.DisplayCode, null, "r" + voucher.Id));
            at.Add(host.Time.GetUtcNow());
        }

        var all = await host.RunAsync<RedemptionService, IReadOnlyList<Redemption>>(s => s.ListAsync(owner, merchantId, null, null));
        Assert.Equal(5, all.Count);
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.At >= p.Second.At));

        var paged = new List<Guid>();
        for (var skip = 0; skip < 5; skip++)
        {
            var page = await host.RunAsync<RedemptionService, IReadOnlyList<Redemption>>(s => s.ListAsync(owner, merchantId, null, null, skip, 1));
            paged.Add(Assert.Single(page).Id);
        }

        Assert.Equal(all.Select(r => r.Id), paged);

        var middle = await host.RunAsync<RedemptionService, IReadOnlyList<Redemption>>(s => s.ListAsync(owner, merchantId, at[2], at[4]));
        Assert.Equal(2, middle.Count);
        Assert.All(middle, r => Assert.True(r.At >= at[2] && r.At < at[4]));

        var (otherOwner, otherMerchant) = await host.CreateApprovedMerchantAsync();
        Assert.Empty(await host.RunAsync<RedemptionService, IReadOnlyList<Redemption>>(s => s.ListAsync(otherOwner, otherMerchant, null, null)));
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<RedemptionService, IReadOnlyList<Redemption>>(s => s.ListAsync(otherOwner, merchantId, null, null)));
    }

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
