using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Jobs;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Payments;

namespace OpenMavn.Core.Tests;

public sealed class LateValidityTests
{
    private static CampaignDefinition FixedDate(DateOnly lastDay) =>
        TestHost.Definition() with { ValidityKind = ValidityKind.FixedDate, ValidUntil = lastDay, ValidityDays = null };

    [Fact]
    public async Task A_payment_arriving_after_the_vouchers_last_valid_day_is_refunded_not_issued_as_expired_vouchers()
    {
        await using var host = await TestHost.StartAsync(o => o.ReservationTimeout = TimeSpan.FromHours(2));
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();

        // Zurich, winter: the last valid day 2026-03-02 ends at 23:00Z; the test starts at 09:00Z that day.
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId, FixedDate(new DateOnly(2026, 3, 2)));
        host.Time.SetUtcNow(new DateTimeOffset(2026, 3, 2, 22, 30, 0, TimeSpan.Zero));
        var order = await host.OrderAsync(await host.CreateCustomerAsync(), campaign.Id, 2);
        host.Time.SetUtcNow(new DateTimeOffset(2026, 3, 2, 23, 10, 0, TimeSpan.Zero));

        var outcome = await host.Sandbox.ConfirmAsync(order.ProviderPaymentId!);
        await host.Outbox.DrainAsync();

        Assert.Equal(PaymentApplication.RefundQueued, outcome);
        Assert.Equal(0, await host.QueryAsync(db => db.Vouchers.CountAsync(v => v.OrderId == order.Id)));
        var stored = await host.QueryAsync(db => db.Orders.AsNoTracking().FirstAsync(o => o.Id == order.Id));
        Assert.Equal(OrderStatus.Refunded, stored.Status);
        Assert.False(stored.HoldsStock);
        Assert.Equal(0, (await host.QueryAsync(db => db.Campaigns.AsNoTracking().FirstAsync(c => c.Id == campaign.Id))).Reserved);
        var payment = await host.QueryAsync(db => db.SandboxPayments.AsNoTracking().FirstAsync(p => p.OrderId == order.Id));
        Assert.Equal(PaymentStatus.Refunded, payment.Status);
        Assert.Equal(order.Amount, payment.RefundedAmount);
    }

    [Fact]
    public async Task The_job_ends_a_fixed_date_campaign_once_its_validity_is_over_in_the_merchants_time_zone()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var lapsing = await host.CreatePublishedCampaignAsync(owner, merchantId, FixedDate(new DateOnly(2026, 3, 2)));
        var lasting = await host.CreatePublishedCampaignAsync(owner, merchantId, FixedDate(new DateOnly(2026, 3, 3)));
        var jobs = host.Services.GetService(typeof(OpenMavnJobs)) as OpenMavnJobs;

        host.Time.SetUtcNow(new DateTimeOffset(2026, 3, 2, 22, 59, 59, TimeSpan.Zero));
        Assert.Equal(0, (await jobs!.RunOnceAsync()).CampaignsEnded);
        host.Time.SetUtcNow(new DateTimeOffset(2026, 3, 2, 23, 0, 0, TimeSpan.Zero));
        Assert.Equal(1, (await jobs.RunOnceAsync()).CampaignsEnded);
        Assert.Equal(0, (await jobs.RunOnceAsync()).CampaignsEnded);

        Assert.Equal(CampaignState.Ended, (await host.RunAsync<CampaignService, Campaign>(s => s.GetAsync(lapsing.Id))).State);
        Assert.Equal(CampaignState.Published, (await host.RunAsync<CampaignService, Campaign>(s => s.GetAsync(lasting.Id))).State);
        var onSale = await host.RunAsync<CampaignService, IReadOnlyList<Campaign>>(s => s.ListOnSaleAsync());
        Assert.Equal([lasting.Id], onSale.Select(c => c.Id));
    }
}
