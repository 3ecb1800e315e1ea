using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Outbox;

namespace OpenMavn.Notifications.Tests;

/// <summary>
/// Through the real host and the outbox: a purchase over HTTP reaches the customer as exactly one email and one push
/// in their language, survives provider outages, rate limits and refusals, and is never delivered twice.
/// </summary>
public sealed class EndToEndTests
{
    private static async Task<IReadOnlyList<string>> CodesAsync(HttpClient customer)
    {
        var vouchers = await customer.GetFromJsonAsync<JsonElement>("/api/customer/vouchers");
        return vouchers.EnumerateArray().Select(v => v.GetProperty("code").GetString()!).ToList();
    }

    [Fact]
    public async Task A_purchase_reaches_the_customer_as_exactly_one_email_and_one_push_in_their_language()
    {
        await using var shop = await NotifyingShop.StartAsync();
        var (anna, email, device) = await shop.CustomerAsync("de");
        var orderId = await shop.BuyAsync(anna, 2);
        var codes = await CodesAsync(anna);
        Assert.Equal(2, codes.Count);

        await shop.DrainUntilDeliveredAsync(TimeSpan.FromSeconds(20));
        await shop.DrainAsync();

        var mail = Assert.Single(shop.SendGrid.Mails, m => m.To.Any(t => t.Email == email));
        Assert.Equal("Anna", Assert.Single(mail.To).Name);
        Assert.Equal("Ihr Kauf: 2 × Kaffee-Gutschein", mail.Subject);
        Assert.Contains("Guten Tag Anna", mail.Text, StringComparison.Ordinal);
        Assert.Contains("Café Sonne", mail.Text, StringComparison.Ordinal);
        Assert.Contains("CHF 50.00", mail.Text, StringComparison.Ordinal);
        Assert.Contains("<html lang=\"de\"", mail.Html, StringComparison.Ordinal);
        foreach (var code in codes)
        {
            Assert.Contains(code, mail.Text, StringComparison.Ordinal);
            Assert.Contains(code, mail.Html, StringComparison.Ordinal);
        }

        // The QR codes travel inline, one per voucher, each referenced by the HTML.
        Assert.Equal(2, mail.Attachments.Count);
        Assert.All(mail.Attachments, a =>
        {
            Assert.Equal("inline", a.Disposition);
            Assert.Contains($"cid:{a.ContentId}", mail.Html, StringComparison.Ordinal);
        });
        Assert.Equal($"purchase:{orderId:N}:email", mail.CustomArgs["dedupe_key"]);

        var push = Assert.Single(shop.Google.Messages, p => p.Token == device);
        Assert.Equal(mail.Subject, push.Title);
        Assert.Equal("2 × Kaffee-Gutschein von Café Sonne liegt in Ihrer Wallet bereit.", push.Body);
        Assert.Equal(orderId.ToString(), push.Data["orderId"]);
        Assert.Equal("voucher.purchased", push.Data["type"]);
        foreach (var code in codes)
        {
            Assert.DoesNotContain(code, push.RawJson, StringComparison.Ordinal);
        }

        // The SME hears about the sale once, in its own language.
        var sale = Assert.Single(shop.SendGrid.Mails, m => m.To.Any(t => t.Email == NotifyingShop.MerchantEmail));
        Assert.Contains("Kaffee-Gutschein", sale.Subject!, StringComparison.Ordinal);
        Assert.Contains("<html lang=\"de\"", sale.Html!, StringComparison.Ordinal);

        // No secret, code or device token in any log line.
        var logs = string.Join('\n', shop.Logs.Lines);
        Assert.DoesNotContain(NotifyingShop.ApiKey, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(device, logs, StringComparison.Ordinal);
        Assert.DoesNotContain("BEGIN PRIVATE KEY", logs, StringComparison.Ordinal);
        foreach (var token in shop.Google.IssuedTokens)
        {
            Assert.DoesNotContain(token.AccessToken, logs, StringComparison.Ordinal);
        }

        foreach (var code in codes)
        {
            Assert.DoesNotContain(code, logs, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task During_an_outage_sales_go_on_and_afterwards_every_message_arrives_once()
    {
        await using var shop = await NotifyingShop.StartAsync();
        var (anna, email, device) = await shop.CustomerAsync("fr", "Anne");
        shop.SendGrid.Down = true;
        shop.Google.Down = true;

        // Both providers down: the purchase and its vouchers do not wait for them.
        var orderId = await shop.BuyAsync(anna, 1);
        Assert.Single(await CodesAsync(anna));
        for (var i = 0; i < 3; i++)
        {
            await shop.DrainAsync();
            await Task.Delay(250);
        }

        Assert.Empty(shop.SendGrid.Mails);
        Assert.Empty(shop.Google.Messages);
        var waiting = await shop.QueryAsync(db => db.OutboxMessages.AsNoTracking()
            .Where(m => m.Type == OutboxTypes.Notification && m.ProcessedAt == null && m.FailedAt == null).ToListAsync());
        Assert.Contains(waiting, m => m.DedupeKey == $"notify:purchase:{orderId:N}:email" && m.Attempts >= 2);
        Assert.Contains(waiting, m => m.DedupeKey == $"notify:purchase:{orderId:N}:push" && m.Attempts >= 2);

        shop.SendGrid.Down = false;
        shop.Google.Down = false;
        await shop.DrainUntilDeliveredAsync(TimeSpan.FromSeconds(20));
        await shop.DrainAsync();

        var mail = Assert.Single(shop.SendGrid.Mails, m => m.To.Any(t => t.Email == email));
        Assert.StartsWith("Bonjour Anne", mail.Text, StringComparison.Ordinal);
        Assert.Single(shop.Google.Messages, p => p.Token == device);
        Assert.Single(shop.SendGrid.Mails, m => m.To.Any(t => t.Email == NotifyingShop.MerchantEmail));
        Assert.Equal(0, await shop.QueryAsync(db => db.OutboxMessages.CountAsync(m => m.FailedAt != null)));
    }

    [Fact]
    public async Task A_429_is_waited_out_for_as_long_as_the_provider_asked()
    {
        await using var shop = await NotifyingShop.StartAsync();
        var (anna, email, _) = await shop.CustomerAsync("it", "Anna");
        shop.SendGrid.FailNext(429, TimeSpan.FromSeconds(2));
        var orderId = await shop.BuyAsync(anna, 1);

        var before = DateTimeOffset.UtcNow;
        await shop.DrainAsync();
        // One of the two emails of the order (customer's, SME's) met the 429.
        var message = await shop.QueryAsync(db => db.OutboxMessages.AsNoTracking()
            .SingleAsync(m => (m.DedupeKey == $"notify:purchase:{orderId:N}:email" || m.DedupeKey == $"notify:sale:{orderId:N}:email") && m.ProcessedAt == null));
        Assert.Null(message.ProcessedAt);
        Assert.True(message.AvailableAt >= before + TimeSpan.FromSeconds(1.9), $"retry due at {message.AvailableAt:O}, 2 s after {before:O} expected");

        // Well before the two seconds nothing is retried; after them it is delivered, once.
        await shop.DrainAsync();
        Assert.Null((await shop.QueryAsync(db => db.OutboxMessages.AsNoTracking().SingleAsync(m => m.Id == message.Id))).ProcessedAt);
        await shop.DrainUntilDeliveredAsync(TimeSpan.FromSeconds(20));
        Assert.Single(shop.SendGrid.Mails, m => m.To.Any(t => t.Email == email));
        Assert.Contains("Buongiorno", shop.SendGrid.Mails.Single(m => m.To.Any(t => t.Email == email)).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_key_fails_the_email_for_good_admins_see_it_and_a_retry_delivers_it_once()
    {
        await using var shop = await NotifyingShop.StartAsync();
        var (anna, email, device) = await shop.CustomerAsync("en");
        shop.SendGrid.FailNext(401);
        shop.SendGrid.FailNext(401);
        await shop.BuyAsync(anna, 1);
        await shop.DrainUntilDeliveredAsync(TimeSpan.FromSeconds(20));

        // Push went out; both emails (customer and SME) were refused and are parked, not retried forever.
        Assert.Single(shop.Google.Messages, p => p.Token == device);
        Assert.Empty(shop.SendGrid.Mails);
        using var admin = await shop.AdminAsync();
        var failed = await NotifyingShop.ExpectAsync(await admin.GetAsync("/api/admin/outbox/failed"), HttpStatusCode.OK);
        var emails = failed.EnumerateArray().Where(m => m.GetProperty("type").GetString() == OutboxTypes.Notification).ToList();
        Assert.Equal(2, emails.Count);
        Assert.All(emails, m => Assert.Contains("API key was refused", m.GetProperty("lastError").GetString(), StringComparison.Ordinal));
        Assert.All(emails, m => Assert.DoesNotContain(NotifyingShop.ApiKey, m.ToString(), StringComparison.Ordinal));

        foreach (var message in emails)
        {
            await NotifyingShop.ExpectAsync(await admin.PostAsync($"/api/admin/outbox/{message.GetProperty("id").GetInt64()}/retry", null), HttpStatusCode.NoContent);
        }

        await shop.DrainUntilDeliveredAsync(TimeSpan.FromSeconds(20));
        await shop.DrainAsync();
        Assert.Single(shop.SendGrid.Mails, m => m.To.Any(t => t.Email == email));
        Assert.Single(shop.SendGrid.Mails, m => m.To.Any(t => t.Email == NotifyingShop.MerchantEmail));
    }

    [Fact]
    public async Task A_device_fcm_no_longer_knows_is_forgotten_and_the_email_still_goes_out()
    {
        await using var shop = await NotifyingShop.StartAsync();
        var (anna, email, device) = await shop.CustomerAsync("de");
        shop.Google.UnregisterDevice(device);
        await shop.BuyAsync(anna, 1);
        await shop.DrainUntilDeliveredAsync(TimeSpan.FromSeconds(20));

        Assert.Empty(shop.Google.Messages);
        Assert.Single(shop.SendGrid.Mails, m => m.To.Any(t => t.Email == email));
        var devices = await anna.GetFromJsonAsync<JsonElement>("/api/customer/devices");
        Assert.Equal(0, devices.GetArrayLength());
        Assert.Equal(0, await shop.QueryAsync(db => db.OutboxMessages.CountAsync(m => m.FailedAt != null)));
    }
}
