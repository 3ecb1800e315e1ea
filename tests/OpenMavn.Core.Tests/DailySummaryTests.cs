using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Jobs;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Notifications;
using static OpenMavn.Core.Tests.AfterPurchaseKit;

namespace OpenMavn.Core.Tests;

/// <summary>The daily sales summary of a Zurich merchant; 29 March 2026 is a 23-hour day there.</summary>
public sealed class DailySummaryTests
{
    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

    private static async Task<List<NotificationMessage>> SummariesAsync(TestHost host)
    {
        await host.Outbox.DrainAsync();
        return host.Sent.OfType(NotificationTypes.MerchantDailySummary).ToList();
    }

    private static Task<Merchant> MerchantAsync(TestHost host, Guid id) => host.QueryAsync(db => db.Merchants.AsNoTracking().FirstAsync(m => m.Id == id));

    [Fact]
    public async Task The_summary_of_a_23_hour_day_counts_exactly_its_sales_and_redemptions_per_currency()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host, StoredValue(5000, 4500));
        var euro = await host.CreatePublishedCampaignAsync(shop.Owner, shop.MerchantId, StoredValue(2000, 2000) with { Currency = "EUR" });
        var customer = await host.CreateCustomerAsync();

        host.Time.SetUtcNow(Utc(3, 28, 22, 59)); // 23:59 CET on 28 March: the day before
        var before = await BuyOneAsync(host, customer, shop.Campaign);
        host.Time.SetUtcNow(Utc(3, 28, 23)); // 00:00 on 29 March
        await BuyOneAsync(host, customer, shop.Campaign);
        host.Time.SetUtcNow(Utc(3, 29, 10)); // 12:00 CEST
        await BuyOneAsync(host, customer, euro);
        await RedeemAsync(host, shop, before.Code, 1000);
        var reversed = await RedeemAsync(host, shop, before.Code, 500);
        await host.RunAsync<Vouchers.RedemptionService>(s => s.ReverseAsync(shop.Staff, shop.MerchantId, reversed.RedemptionId));
        host.Time.SetUtcNow(Utc(3, 29, 21, 59)); // 23:59 CEST
        await host.BuyAsync(customer, shop.Campaign.Id, 2);
        host.Time.SetUtcNow(Utc(3, 29, 22)); // 00:00 on 30 March: the next day
        await BuyOneAsync(host, customer, shop.Campaign);

        host.Time.SetUtcNow(Utc(3, 29, 22, 30));
        Assert.Equal(1, (await RunJobsAsync(host)).SummariesSent);
        Assert.Equal(0, (await RunJobsAsync(host)).SummariesSent);

        var summary = Assert.Single(await SummariesAsync(host));
        NotificationContract.AssertKeys(summary);
        Assert.Equal("owner@sonne.example.ch", summary.Recipient.Email);
        Assert.Equal("de", summary.Language);
        Assert.Equal(
            ("2026-03-29", "3", "4", "CHF 135.00, EUR 20.00", "1", "CHF 10.00", "Europe/Zurich", "Café Sonne"),
            (summary.Model["date"], summary.Model["orders"], summary.Model["vouchersSold"], summary.Model["salesAmount"], summary.Model["redemptions"], summary.Model["redeemedAmount"], summary.Model["timeZone"], summary.Model["merchantName"]));
        Assert.EndsWith($"summary:{shop.MerchantId:N}:2026-03-29:test", summary.DedupeKey, StringComparison.Ordinal);
        Assert.Equal(new DateOnly(2026, 3, 29), (await MerchantAsync(host, shop.MerchantId)).LastSummaryOn);

        // The next day had one sale and no redemption.
        host.Time.SetUtcNow(Utc(3, 30, 22, 5));
        Assert.Equal(1, (await RunJobsAsync(host)).SummariesSent);
        var next = (await SummariesAsync(host)).Single(m => m.Model["date"] == "2026-03-30");
        Assert.Equal(("1", "CHF 45.00", "0", "CHF 0.00"), (next.Model["orders"], next.Model["salesAmount"], next.Model["redemptions"], next.Model["redeemedAmount"]));
    }

    [Fact]
    public async Task A_day_without_activity_sends_nothing_but_advances_and_a_long_downtime_sends_only_the_last_day()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        Assert.Equal(new DateOnly(2026, 3, 1), (await MerchantAsync(host, shop.MerchantId)).LastSummaryOn); // starts with the registration day

        Assert.Equal(0, (await RunJobsAsync(host)).SummariesSent); // 2 March is not over
        host.Time.SetUtcNow(Utc(3, 3, 6));
        Assert.Equal(0, (await RunJobsAsync(host)).SummariesSent); // 2 March: nothing happened
        Assert.Equal(new DateOnly(2026, 3, 2), (await MerchantAsync(host, shop.MerchantId)).LastSummaryOn);

        // Sales on 3, 4 and 5 March; the jobs are down until 6 March: only 5 March is summarised.
        var customer = await host.CreateCustomerAsync();
        foreach (var day in new[] { 3, 4, 5 })
        {
            host.Time.SetUtcNow(Utc(3, day, 12));
            await BuyOneAsync(host, customer, shop.Campaign);
        }

        host.Time.SetUtcNow(Utc(3, 6, 9));
        Assert.Equal(1, (await RunJobsAsync(host)).SummariesSent);
        Assert.Equal(0, (await RunJobsAsync(host)).SummariesSent);
        Assert.Equal("2026-03-05", Assert.Single(await SummariesAsync(host)).Model["date"]);
    }

    [Fact]
    public async Task Merchants_who_opted_out_get_no_summary()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await OpenShopAsync(host);
        await host.RunAsync<MerchantService, Merchant>(s => s.UpdateProfileAsync(shop.Owner, shop.MerchantId, new MerchantProfile("Café Sonne", "owner@sonne.example.ch", "Europe/Zurich", "de", null, null, null, null, DailySummary: false)));
        await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);

        host.Time.SetUtcNow(Utc(3, 3, 6));
        Assert.Equal(0, (await RunJobsAsync(host)).SummariesSent);
        Assert.Empty(await SummariesAsync(host));
        var merchant = await MerchantAsync(host, shop.MerchantId);
        Assert.False(merchant.DailySummary);

        // A profile update that leaves the preference out keeps it.
        await host.RunAsync<MerchantService, Merchant>(s => s.UpdateProfileAsync(shop.Owner, shop.MerchantId, new MerchantProfile("Café Sonne AG", "owner@sonne.example.ch", "Europe/Zurich", "de", null, null, null, null)));
        Assert.False((await MerchantAsync(host, shop.MerchantId)).DailySummary);
    }

    [Fact]
    public async Task Job_runners_on_separate_scopes_at_once_send_each_merchant_one_summary()
    {
        await using var host = await TestHost.StartAsync();
        var customer = await host.CreateCustomerAsync();
        var shops = new List<Shop>();
        foreach (var zone in new[] { "Europe/Zurich", "Europe/Zurich", "America/New_York", "Pacific/Auckland" })
        {
            var (owner, merchantId) = await host.CreateApprovedMerchantAsync(zone);
            var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
            shops.Add(new Shop(owner, merchantId, owner, campaign));
        }

        host.Time.SetUtcNow(Utc(3, 3, 8)); // 3 March in Zurich, New York and Auckland alike
        foreach (var shop in shops)
        {
            await BuyOneAsync(host, customer, shop.Campaign);
        }

        host.Time.SetUtcNow(Utc(3, 4, 8)); // 4 March in all three zones: 3 March is the last complete day everywhere
        var jobs = host.Services.GetRequiredService<OpenMavnJobs>();
        var rounds = await RaceAsync(4, _ => jobs.RunOnceAsync());

        Assert.All(rounds, r => Assert.True(r.Succeeded));
        Assert.Equal(shops.Count, rounds.Sum(r => r.Value!.SummariesSent));
        var summaries = await SummariesAsync(host);
        Assert.Equal(shops.Count, summaries.Count);
        Assert.All(summaries, m => Assert.Equal(("2026-03-03", "1"), (m.Model["date"], m.Model["orders"])));
        Assert.Equal(["America/New_York", "Europe/Zurich", "Europe/Zurich", "Pacific/Auckland"], summaries.Select(m => m.Model["timeZone"]).Order(StringComparer.Ordinal));
    }
}
