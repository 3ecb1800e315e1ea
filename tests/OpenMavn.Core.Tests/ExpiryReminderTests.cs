using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Customers;
using OpenMavn.Core.Jobs;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Vouchers;
using static OpenMavn.Core.Tests.AfterPurchaseKit;

namespace OpenMavn.Core.Tests;

/// <summary>
/// Reminders before expiry. The shop is in Zurich; vouchers bought at <see cref="TestHost.Start"/> (2 March) are valid
/// for 30 days, so 1 April is their last day (clocks go forward on 29 March in between).
/// </summary>
public sealed class ExpiryReminderTests
{
    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

    private static Task<Shop> ShopAsync(TestHost host) => OpenShopAsync(host, StoredValue(5000) with { ValidityDays = 30 });

    private static async Task<List<NotificationMessage>> RemindersAsync(TestHost host)
    {
        await host.Outbox.DrainAsync();
        return host.Sent.OfType(NotificationTypes.ExpiryReminder).ToList();
    }

    [Fact]
    public async Task Owners_are_reminded_14_and_3_local_days_before_the_last_day_once_each()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await ShopAsync(host);
        var customer = await host.CreateCustomerAsync("anna@example.ch");
        var voucher = await BuyOneAsync(host, customer, shop.Campaign);
        Assert.Equal(Utc(4, 1, 22), voucher.ExpiresAt);

        host.Time.SetUtcNow(Utc(3, 18, 22, 59)); // 23:59 on 18 March in Zurich: 15 days left
        Assert.Equal(0, (await RunJobsAsync(host)).RemindersSent);
        host.Time.SetUtcNow(Utc(3, 18, 23)); // midnight: 19 March to 1 April is 14 days
        Assert.Equal(1, (await RunJobsAsync(host)).RemindersSent);
        Assert.Equal(0, (await RunJobsAsync(host)).RemindersSent);
        host.Time.SetUtcNow(Utc(3, 25, 12));
        Assert.Equal(0, (await RunJobsAsync(host)).RemindersSent);

        host.Time.SetUtcNow(Utc(3, 29, 21, 59)); // 23:59 CEST on 29 March: 4 days left
        Assert.Equal(0, (await RunJobsAsync(host)).RemindersSent);
        host.Time.SetUtcNow(Utc(3, 29, 22)); // midnight CEST: 30, 31 March and 1 April
        Assert.Equal(1, (await RunJobsAsync(host)).RemindersSent);
        host.Time.SetUtcNow(Utc(4, 1, 21));
        Assert.Equal(0, (await RunJobsAsync(host)).RemindersSent);

        var sent = await RemindersAsync(host);
        Assert.Equal(["14", "3"], sent.Select(m => m.Model["daysLeft"]));
        foreach (var m in sent)
        {
            NotificationContract.AssertKeys(m);
            Assert.Equal(customer.Id, m.Recipient.UserId);
            Assert.Equal(("2026-04-01", "CHF 50.00", "Café Sonne", "Europe/Zurich"), (m.Model["expiresOn"], m.Model["balance"], m.Model["merchantName"], m.Model["timeZone"]));
            Assert.Equal(voucher.Id.ToString(), m.Model["voucherId"]);
        }

        Assert.Equal(
            [$"notify:expiry:{voucher.Id:N}:14:test", $"notify:expiry:{voucher.Id:N}:3:test"],
            (await host.OutboxAsync(OutboxTypes.Notification)).Select(m => m.DedupeKey).Where(k => k.StartsWith("notify:expiry:", StringComparison.Ordinal) && k.EndsWith(":test", StringComparison.Ordinal)));
        Assert.Equal(3, (await host.VoucherAsync(voucher.Id)).RemindedDays);
    }

    [Fact]
    public async Task A_voucher_first_seen_inside_the_smaller_window_gets_only_that_reminder()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await ShopAsync(host);
        var customer = await host.CreateCustomerAsync();
        var voucher = await BuyOneAsync(host, customer, shop.Campaign);

        host.Time.SetUtcNow(Utc(3, 31, 8)); // jobs were down; 31 March and 1 April are left
        Assert.Equal(1, (await RunJobsAsync(host)).RemindersSent);
        Assert.Equal(0, (await RunJobsAsync(host)).RemindersSent);

        var only = Assert.Single(await RemindersAsync(host));
        Assert.Equal("2", only.Model["daysLeft"]);
        Assert.EndsWith($"expiry:{voucher.Id:N}:3:test", only.DedupeKey, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Customers_who_opted_out_get_none_and_their_vouchers_are_not_scanned_again()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await ShopAsync(host);
        var customer = await host.CreateCustomerAsync();
        await host.RunAsync<CustomerService, Customer>(s => s.UpdatePreferencesAsync(customer, null, expiryReminders: false));
        var voucher = await BuyOneAsync(host, customer, shop.Campaign);

        host.Time.SetUtcNow(Utc(3, 20, 8));
        Assert.Equal(0, (await RunJobsAsync(host)).RemindersSent);
        Assert.Equal(14, (await host.VoucherAsync(voucher.Id)).RemindedDays); // handled for that window
        host.Time.SetUtcNow(Utc(3, 31, 8));
        Assert.Equal(0, (await RunJobsAsync(host)).RemindersSent);
        Assert.Equal(3, (await host.VoucherAsync(voucher.Id)).RemindedDays);

        Assert.Empty(await RemindersAsync(host));
    }

    [Fact]
    public async Task Redeemed_refunded_used_up_and_expired_vouchers_get_no_reminder()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await ShopAsync(host);
        var longer = await host.CreatePublishedCampaignAsync(shop.Owner, shop.MerchantId, StoredValue(5000) with { ValidityDays = 38 }); // last day 9 April
        var customer = await host.CreateCustomerAsync();
        var (_, vouchers) = await host.BuyAsync(customer, shop.Campaign.Id, 3);
        var (usedUp, refunded, expiring) = (vouchers[0], vouchers[1], vouchers[2]);
        var kept = await BuyOneAsync(host, customer, longer);
        await RedeemAsync(host, shop, usedUp.Code, 5000);
        await host.RunAsync<VoucherService, Payments.Refund>(s => s.RefundAsync(shop.Owner, refunded.Id, "Changed my mind"));

        // The jobs were down until the 30-day vouchers were over: the last one expires in this round, unreminded.
        host.Time.SetUtcNow(Utc(4, 1, 22));
        var round = await RunJobsAsync(host);

        Assert.Equal(1, round.VouchersExpired);
        Assert.Equal(1, round.RemindersSent);
        Assert.Equal(kept.Id.ToString(), Assert.Single(await RemindersAsync(host)).Model["voucherId"]);
        Assert.Equal(VoucherStatus.Expired, (await host.VoucherAsync(expiring.Id)).Status);
        Assert.Equal(VoucherStatus.Redeemed, (await host.VoucherAsync(usedUp.Id)).Status);
        Assert.Equal(VoucherStatus.Refunded, (await host.VoucherAsync(refunded.Id)).Status);
        foreach (var id in new[] { usedUp.Id, refunded.Id, expiring.Id })
        {
            Assert.Null((await host.VoucherAsync(id)).RemindedDays);
        }
    }

    [Fact]
    public async Task Job_runners_on_separate_scopes_at_once_send_exactly_one_reminder_per_voucher()
    {
        await using var host = await TestHost.StartAsync();
        var shop = await ShopAsync(host);
        var vouchers = new List<Voucher>();
        for (var i = 0; i < 6; i++)
        {
            vouchers.Add(await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign));
        }

        host.Time.SetUtcNow(Utc(3, 20, 8));
        var jobs = host.Services.GetRequiredService<OpenMavnJobs>();
        var rounds = await RaceAsync(4, _ => jobs.RunOnceAsync());

        Assert.All(rounds, r => Assert.True(r.Succeeded));
        Assert.Equal(vouchers.Count, rounds.Sum(r => r.Value!.RemindersSent));
        var sent = await RemindersAsync(host);
        Assert.Equal(vouchers.Select(v => v.Id.ToString()).Order(), sent.Select(m => m.Model["voucherId"]).Order());
    }

    [Fact]
    public async Task Configured_days_replace_the_default_and_an_empty_list_turns_reminders_off()
    {
        static IOptions<OpenMavnOptions> Bind(params (string Key, string? Value)[] settings)
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();
            var services = new ServiceCollection();
            services.AddOpenMavn(configuration);
            return services.BuildServiceProvider().GetRequiredService<IOptions<OpenMavnOptions>>();
        }

        Assert.Equal([14, 3], Bind().Value.Notifications.ExpiryReminderDays);
        Assert.Equal([7], Bind(("Notifications:ExpiryReminderDays:0", "7")).Value.Notifications.ExpiryReminderDays);
        Assert.Empty(Bind(("Notifications:ExpiryReminderDays", "")).Value.Notifications.ExpiryReminderDays);
        var error = Assert.Throws<OptionsValidationException>(() => Bind(("Notifications:ExpiryReminderDays:0", "400")).Value);
        Assert.Contains("Notifications:ExpiryReminderDays", Assert.Single(error.Failures), StringComparison.Ordinal);

        await using var host = await TestHost.StartAsync(o => o.Notifications.ExpiryReminderDays = []);
        var shop = await ShopAsync(host);
        await BuyOneAsync(host, await host.CreateCustomerAsync(), shop.Campaign);
        host.Time.SetUtcNow(Utc(3, 31, 8));
        Assert.Equal(0, (await RunJobsAsync(host)).RemindersSent);
    }
}
