using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Tests;

public sealed class TimeZoneTests
{
    private static DateTimeOffset Utc(int year, int month, int day, int hour, int minute = 0) => new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    private static DateTimeOffset Expiry(string zone, DateOnly validUntil) =>
        CampaignService.ComputeExpiry(ValidityKind.FixedDate, validUntil, null, zone, TestHost.Start);

    private static DateTimeOffset ExpiryAfter(string zone, int days, DateTimeOffset purchasedAt) =>
        CampaignService.ComputeExpiry(ValidityKind.DaysAfterPurchase, null, days, zone, purchasedAt);

    [Fact]
    public void Days_after_purchase_count_from_the_merchants_local_date_late_in_the_evening()
    {
        // 23:30 in Zurich (winter, UTC+1) is 22:30Z the same day: the last valid day is the next LOCAL day, which
        // ends at 23:00Z (not at midnight UTC).
        Assert.Equal(Utc(2026, 3, 3, 23), ExpiryAfter("Europe/Zurich", 1, Utc(2026, 3, 2, 22, 30)));

        // 00:30 in Zurich is 23:30Z on the PREVIOUS UTC day: it already counts as 3 March locally.
        Assert.Equal(Utc(2026, 3, 4, 23), ExpiryAfter("Europe/Zurich", 1, Utc(2026, 3, 2, 23, 30)));

        // A UTC merchant at the same instants: counted from the UTC date.
        Assert.Equal(Utc(2026, 3, 4, 0), ExpiryAfter("UTC", 1, Utc(2026, 3, 2, 22, 30)));
        Assert.Equal(Utc(2026, 3, 4, 0), ExpiryAfter("UTC", 1, Utc(2026, 3, 2, 23, 30)));
    }

    [Fact]
    public async Task A_voucher_bought_at_23_30_in_Zurich_counts_its_days_from_the_local_date_and_expires_at_local_midnight()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync("Europe/Zurich");
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId, TestHost.Definition() with { ValidityDays = 1 });
        var customer = await host.CreateCustomerAsync();

        host.Time.SetUtcNow(Utc(2026, 3, 2, 22, 30)); // 23:30 local
        var (_, evening) = await host.BuyAsync(customer, campaign.Id);
        host.Time.SetUtcNow(Utc(2026, 3, 2, 23, 30)); // 00:30 local, next day
        var (_, night) = await host.BuyAsync(customer, campaign.Id);

        Assert.Equal(Utc(2026, 3, 3, 23), Assert.Single(evening).ExpiresAt);
        Assert.Equal(Utc(2026, 3, 4, 23), Assert.Single(night).ExpiresAt);

        // The expiry job agrees: valid until the last tick of 3 March in Zurich, expired at its midnight.
        host.Time.SetUtcNow(Utc(2026, 3, 3, 22, 59));
        Assert.Equal(0, await host.RunAsync<VoucherService, int>(s => s.ExpireDueAsync()));
        host.Time.SetUtcNow(Utc(2026, 3, 3, 23));
        Assert.Equal(1, await host.RunAsync<VoucherService, int>(s => s.ExpireDueAsync()));
        Assert.Equal(VoucherStatus.Expired, (await host.VoucherAsync(evening[0].Id)).Status);
        Assert.Equal(VoucherStatus.Active, (await host.VoucherAsync(night[0].Id)).Status);
    }

    [Fact]
    public void Fixed_dates_end_at_local_midnight_on_both_sides_of_the_spring_change_in_Zurich()
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Zurich");

        var beforeChange = Expiry("Europe/Zurich", new DateOnly(2026, 3, 28)); // ends at midnight CET (+1)
        var afterChange = Expiry("Europe/Zurich", new DateOnly(2026, 3, 29)); // ends at midnight CEST (+2)

        Assert.Equal(Utc(2026, 3, 28, 23), beforeChange);
        Assert.Equal(Utc(2026, 3, 29, 22), afterChange);
        Assert.Equal(TimeSpan.FromHours(1), zone.GetUtcOffset(beforeChange));
        Assert.Equal(TimeSpan.FromHours(2), zone.GetUtcOffset(afterChange));
        Assert.Equal(TimeSpan.FromHours(23), afterChange - beforeChange); // 29 March has 23 hours
        Assert.Equal(new DateTime(2026, 3, 30), TimeZoneInfo.ConvertTime(afterChange, zone).DateTime);

        // Autumn: 25 October has 25 hours.
        var autumnBefore = Expiry("Europe/Zurich", new DateOnly(2026, 10, 24));
        var autumnAfter = Expiry("Europe/Zurich", new DateOnly(2026, 10, 25));
        Assert.Equal(Utc(2026, 10, 24, 22), autumnBefore);
        Assert.Equal(Utc(2026, 10, 25, 23), autumnAfter);
        Assert.Equal(TimeSpan.FromHours(25), autumnAfter - autumnBefore);

        // Thirty days after a purchase in winter end at a summer midnight.
        Assert.Equal(Utc(2026, 4, 1, 22), ExpiryAfter("Europe/Zurich", 30, Utc(2026, 3, 2, 9)));
    }

    [Fact]
    public async Task Vouchers_of_fixed_date_campaigns_expire_at_the_local_midnight_of_their_last_day()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync("Europe/Zurich");
        var fixedDate = TestHost.Definition() with { ValidityKind = ValidityKind.FixedDate, ValidityDays = null };
        var winter = await host.CreatePublishedCampaignAsync(owner, merchantId, fixedDate with { ValidUntil = new DateOnly(2026, 3, 28) });
        var summer = await host.CreatePublishedCampaignAsync(owner, merchantId, fixedDate with { ValidUntil = new DateOnly(2026, 3, 29) });
        var customer = await host.CreateCustomerAsync();

        var (_, w) = await host.BuyAsync(customer, winter.Id);
        var (_, s) = await host.BuyAsync(customer, summer.Id);

        Assert.Equal(Utc(2026, 3, 28, 23), w[0].ExpiresAt);
        Assert.Equal(Utc(2026, 3, 29, 22), s[0].ExpiresAt);

        host.Time.SetUtcNow(Utc(2026, 3, 29, 21, 59)); // 23:59 CEST on the last day
        Assert.Equal(1, await host.RunAsync<VoucherService, int>(x => x.ExpireDueAsync()));
        Assert.Equal(VoucherStatus.Active, (await host.VoucherAsync(s[0].Id)).Status);
        host.Time.SetUtcNow(Utc(2026, 3, 29, 22));
        Assert.Equal(1, await host.RunAsync<VoucherService, int>(x => x.ExpireDueAsync()));
        Assert.Equal(VoucherStatus.Expired, (await host.VoucherAsync(s[0].Id)).Status);
    }

    [Fact]
    public async Task A_New_York_merchant_counts_in_New_York_time_wherever_the_customer_is()
    {
        await using var host = await TestHost.StartAsync();
        var (nyOwner, nyMerchant) = await host.CreateApprovedMerchantAsync("America/New_York");
        var (zhOwner, zhMerchant) = await host.CreateApprovedMerchantAsync("Europe/Zurich");
        var definition = TestHost.Definition(currency: "USD") with { ValidityDays = 1 };
        var ny = await host.CreatePublishedCampaignAsync(nyOwner, nyMerchant, definition);
        var zh = await host.CreatePublishedCampaignAsync(zhOwner, zhMerchant, definition);
        var customerInZurich = await host.CreateCustomerAsync(language: "de");

        // 03:00Z on 3 March: 22:00 on 2 March in New York, 04:00 on 3 March in Zurich.
        host.Time.SetUtcNow(Utc(2026, 3, 3, 3));
        var (_, fromNy) = await host.BuyAsync(customerInZurich, ny.Id);
        var (_, fromZh) = await host.BuyAsync(customerInZurich, zh.Id);

        Assert.Equal(Utc(2026, 3, 4, 5), fromNy[0].ExpiresAt); // end of 3 March, EST
        Assert.Equal(Utc(2026, 3, 4, 23), fromZh[0].ExpiresAt); // end of 4 March, CET

        // The customer is told the same instant.
        await host.Outbox.DrainAsync();
        var told = host.Sent.OfType(NotificationTypes.VoucherPurchased).Select(m => DateTimeOffset.Parse(m.Model["expiresAt"], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Contains(Utc(2026, 3, 4, 5), told);
        Assert.Contains(Utc(2026, 3, 4, 23), told);

        // New York's own spring change (8 March) moves its midnight from −5 to −4.
        Assert.Equal(Utc(2026, 3, 8, 5), Expiry("America/New_York", new DateOnly(2026, 3, 7)));
        Assert.Equal(Utc(2026, 3, 9, 4), Expiry("America/New_York", new DateOnly(2026, 3, 8)));
    }

    [Fact]
    public async Task An_Auckland_merchant_is_a_day_ahead_and_its_autumn_change_is_honoured()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync("Pacific/Auckland");
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId, TestHost.Definition(currency: "NZD") with { ValidityDays = 1 });
        var customer = await host.CreateCustomerAsync();

        // 12:00Z on 2 March is 01:00 on 3 March in Auckland (NZDT, +13).
        host.Time.SetUtcNow(Utc(2026, 3, 2, 12));
        var (_, vouchers) = await host.BuyAsync(customer, campaign.Id);

        Assert.Equal(Utc(2026, 3, 4, 11), vouchers[0].ExpiresAt); // end of 4 March, NZDT

        // 5 April 2026: 03:00 NZDT becomes 02:00 NZST.
        Assert.Equal(Utc(2026, 4, 4, 11), Expiry("Pacific/Auckland", new DateOnly(2026, 4, 4)));
        Assert.Equal(Utc(2026, 4, 5, 12), Expiry("Pacific/Auckland", new DateOnly(2026, 4, 5)));
    }

    [Fact]
    public void Where_clocks_jump_at_midnight_the_day_still_ends_at_a_valid_instant()
    {
        // Santiago, 6 September 2026: 00:00 (−4) jumps to 01:00 (−3); there is no local midnight.
        var santiago = Expiry("America/Santiago", new DateOnly(2026, 9, 5));
        Assert.Equal(Utc(2026, 9, 6, 4), santiago);
        AssertFirstInstantOf(new DateOnly(2026, 9, 6), santiago, "America/Santiago");

        // Havana, 8 March 2026: 00:00 CST jumps to 01:00 CDT.
        var havana = Expiry("America/Havana", new DateOnly(2026, 3, 7));
        Assert.Equal(Utc(2026, 3, 8, 5), havana);
        AssertFirstInstantOf(new DateOnly(2026, 3, 8), havana, "America/Havana");

        // Santiago, 5 April 2026: 24:00 (−3) falls back to 23:00 (−4); 4 April has 25 hours.
        var santiagoAutumn = Expiry("America/Santiago", new DateOnly(2026, 4, 4));
        Assert.Equal(Utc(2026, 4, 5, 4), santiagoAutumn);
        AssertFirstInstantOf(new DateOnly(2026, 4, 5), santiagoAutumn, "America/Santiago");
    }

    [Fact]
    public void Where_local_midnight_happens_twice_the_day_ends_at_the_first_one()
    {
        // Havana, 1 November 2026: 01:00 CDT falls back to 00:00 CST, so 00:00–01:00 on 1 November happens twice.
        // 31 October ends at the FIRST local midnight (04:00Z); a voucher must not stay valid during the first hour
        // of 1 November.
        var havana = Expiry("America/Havana", new DateOnly(2026, 10, 31));

        Assert.Equal(Utc(2026, 11, 1, 4), havana);
        AssertFirstInstantOf(new DateOnly(2026, 11, 1), havana, "America/Havana");
    }

    [Fact]
    public async Task A_Santiago_voucher_of_a_fixed_date_before_the_midnight_jump_gets_a_valid_expiry()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync("America/Santiago");
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId, TestHost.Definition(currency: "CLP") with
        {
            ValidityKind = ValidityKind.FixedDate,
            ValidUntil = new DateOnly(2026, 9, 5),
            ValidityDays = null,
        });
        var customer = await host.CreateCustomerAsync();

        var (_, vouchers) = await host.BuyAsync(customer, campaign.Id);

        Assert.Equal(Utc(2026, 9, 6, 4), vouchers[0].ExpiresAt);
        var stored = await host.QueryAsync(db => db.Vouchers.AsNoTracking().SingleAsync());
        Assert.Equal(Utc(2026, 9, 6, 4), stored.ExpiresAt);
    }

    [Fact]
    public async Task A_fixed_date_campaign_can_be_published_until_the_local_end_of_its_last_day()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync("Europe/Zurich");
        var lastDayToday = TestHost.Definition() with { ValidityKind = ValidityKind.FixedDate, ValidUntil = new DateOnly(2026, 3, 2), ValidityDays = null };
        var first = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, lastDayToday));
        var second = await host.RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, lastDayToday));

        host.Time.SetUtcNow(Utc(2026, 3, 2, 22, 59)); // 23:59 in Zurich: 2 March is not over
        await host.RunAsync<CampaignService>(s => s.PublishAsync(owner, first.Id));
        host.Time.SetUtcNow(Utc(2026, 3, 2, 23)); // midnight in Zurich, still 2 March in UTC
        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => host.RunAsync<CampaignService>(s => s.PublishAsync(owner, second.Id)));

        Assert.Equal(["validUntil"], error.Errors.Keys);
        Assert.Equal(CampaignState.Published, await host.StateAsync(first.Id));
        Assert.Equal(CampaignState.Draft, await host.StateAsync(second.Id));
    }

    [Fact]
    public async Task A_fixed_date_campaign_without_a_sales_end_stops_selling_once_its_vouchers_would_already_be_expired()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync("Europe/Zurich");
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId, TestHost.Definition() with
        {
            ValidityKind = ValidityKind.FixedDate,
            ValidUntil = new DateOnly(2026, 3, 10),
            ValidityDays = null,
        });
        var customer = await host.CreateCustomerAsync();

        host.Time.SetUtcNow(Utc(2026, 3, 10, 22, 59)); // 23:59 on the last valid day: still sold
        var (_, lastMinute) = await host.BuyAsync(customer, campaign.Id);
        Assert.True(lastMinute[0].ExpiresAt > host.Time.GetUtcNow());

        host.Time.SetUtcNow(Utc(2026, 3, 10, 23)); // midnight in Zurich: a voucher sold now would be worthless
        var error = await Assert.ThrowsAsync<ConflictException>(() => host.OrderAsync(customer, campaign.Id));

        Assert.Equal("campaign.sales_ended", error.Code);
        Assert.Equal(1, await host.QueryAsync(db => db.Orders.CountAsync()));
        Assert.Equal(1, (await host.RunAsync<CampaignService, Campaign>(s => s.GetAsync(campaign.Id))).Reserved);
    }

    [Fact]
    public void In_every_time_zone_every_day_of_2026_ends_exactly_where_the_next_local_day_begins()
    {
        var failures = new List<string>();
        var zones = TimeZoneInfo.GetSystemTimeZones();
        Assert.True(zones.Count > 100, $"only {zones.Count} time zones available");
        foreach (var zone in zones)
        {
            for (var day = new DateOnly(2026, 1, 1); day.Year == 2026; day = day.AddDays(1))
            {
                var end = CampaignService.ComputeExpiry(ValidityKind.FixedDate, day, null, zone.Id, TestHost.Start);
                var localAtEnd = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(end, zone).DateTime);
                var localJustBefore = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(end.AddTicks(-1), zone).DateTime);
                if (localAtEnd != day.AddDays(1) || localJustBefore != day)
                {
                    failures.Add($"{zone.Id} {day:yyyy-MM-dd}: ends {end:O} (local {TimeZoneInfo.ConvertTime(end, zone):O})");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(20)));
    }

    [Fact]
    public void Days_after_purchase_equal_a_fixed_date_on_the_local_purchase_day_plus_n()
    {
        string[] zones = ["Europe/Zurich", "America/New_York", "Pacific/Auckland", "America/Santiago", "Asia/Kolkata", "Pacific/Kiritimati", "Pacific/Pago_Pago"];
        foreach (var id in zones)
        {
            var zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            for (var purchase = Utc(2026, 1, 1, 0, 7); purchase.Year == 2026; purchase = purchase.AddHours(7))
            {
                var localDay = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(purchase, zone).DateTime);
                Assert.Equal(
                    CampaignService.ComputeExpiry(ValidityKind.FixedDate, localDay.AddDays(10), null, id, purchase),
                    ExpiryAfter(id, 10, purchase));
                Assert.True(ExpiryAfter(id, 1, purchase) - purchase > TimeSpan.FromHours(23), $"{id} {purchase:O}");
            }
        }
    }

    private static void AssertFirstInstantOf(DateOnly day, DateTimeOffset instant, string zoneId)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        Assert.Equal(day, DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime));
        Assert.Equal(day.AddDays(-1), DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant.AddTicks(-1), zone).DateTime));
        Assert.False(zone.IsInvalidTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime));
    }
}
