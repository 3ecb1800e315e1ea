using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace OpenMavn.AspNetCore.Tests;

/// <summary>The six steps OpenMavn exists for, end to end over real HTTP, with merchant, operator and customer actors.</summary>
public sealed class SixStepsOverHttpTests
{
    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<JsonElement> PostAsync(HttpClient client, string url, object? body, HttpStatusCode expected = HttpStatusCode.OK) =>
        await ReadAsync(await client.PostAsJsonAsync(url, body, ApiHost.Json), expected);

    private static async Task<JsonElement> PostIdempotentAsync(HttpClient client, string url, object? body, HttpStatusCode expected = HttpStatusCode.OK) =>
        await ReadAsync(await ApiHost.PostIdempotentAsync(client, url, body), expected);

    [Fact]
    public async Task An_SME_registers_sells_is_paid_and_its_customers_redeem_gift_and_exchange_all_over_http()
    {
        await using var host = await ApiHost.StartAsync();
        var admin = await host.AdminAsync();

        // 1. The SME registers, connects its payment account, and is reviewed by an operator.
        var (owner, _) = await host.SignUpAsync();
        var merchant = await PostAsync(owner, "/api/merchants/", new { name = "Café Sonne", email = "hallo@sonne.example.ch", country = "CH", timeZoneId = "Europe/Zurich", language = "de" }, HttpStatusCode.Created);
        var merchantId = merchant.GetProperty("id").GetGuid();
        await ReadAsync(await owner.PutAsJsonAsync($"/api/merchants/{merchantId}/payment-account", new { provider = "sandbox", accountId = "cafe-sonne", secret = "sandbox-secret-1" }), HttpStatusCode.OK);
        await PostAsync(owner, $"/api/merchants/{merchantId}/kyc/submit", null);
        await PostAsync(admin, $"/api/admin/merchants/{merchantId}/kyc/approve", new { comment = "Documents complete." });
        var (staff, staffId) = await host.SignUpAsync();
        await PostAsync(owner, $"/api/merchants/{merchantId}/members", new { userId = staffId, role = "Staff" });

        // 2. It creates and publishes a campaign: CHF 50 stored-value credit for CHF 45.
        var campaign = await PostAsync(owner, $"/api/merchants/{merchantId}/campaigns", new
        {
            texts = new[] { new { language = "de", name = "Kaffee-Guthaben" }, new { language = "en", name = "Coffee credit" } },
            defaultLanguage = "de",
            currency = "CHF",
            faceValue = 5000,
            price = 4500,
            kind = "StoredValue",
            supply = 100,
            validityKind = "DaysAfterPurchase",
            validityDays = 365,
            transferable = true,
            exchangeable = true,
        }, HttpStatusCode.Created);
        var campaignId = campaign.GetProperty("campaign").GetProperty("id").GetGuid();
        await PostAsync(owner, $"/api/merchants/{merchantId}/campaigns/{campaignId}/publish", null);

        // 3. A customer finds it and buys two vouchers through the payment gateway (sandbox page).
        var (anna, _) = await host.CustomerAsync("de");
        var found = await ReadAsync(await anna.GetAsync("/api/campaigns/?q=coffee&language=en"), HttpStatusCode.OK);
        Assert.Contains(found.EnumerateArray(), c => c.GetProperty("id").GetGuid() == campaignId && c.GetProperty("name").GetString() == "Coffee credit");
        var order = await PostIdempotentAsync(anna, "/api/customer/orders", new { campaignId, quantity = 2 }, HttpStatusCode.Created);
        Assert.Equal("PendingPayment", order.GetProperty("status").GetString());
        Assert.Equal(9000, order.GetProperty("total").GetProperty("amount").GetInt64());
        var paymentId = new Uri(order.GetProperty("checkoutUrl").GetString()!).Segments[^1];
        using (var gateway = host.Client())
        {
            var paid = await PostAsync(gateway, $"/sandbox/checkout/{paymentId}/confirm", null);
            Assert.Equal("VouchersIssued", paid.GetProperty("outcome").GetString());
        }

        // 4. The SME is paid: its books show the sale and what it owes in vouchers.
        var balance = await ReadAsync(await owner.GetAsync($"/api/merchants/{merchantId}/balance"), HttpStatusCode.OK);
        var chf = Assert.Single(balance.EnumerateArray());
        Assert.Equal(9000, chf.GetProperty("grossSales").GetInt64());
        Assert.Equal(10000, chf.GetProperty("outstandingLiability").GetInt64());

        // 5. The customer has two digital vouchers with codes and QR codes.
        var vouchers = await ReadAsync(await anna.GetAsync("/api/customer/vouchers"), HttpStatusCode.OK);
        Assert.Equal(2, vouchers.GetArrayLength());
        var first = vouchers[0];
        var second = vouchers[1];
        var qr = await anna.GetAsync($"/api/customer/vouchers/{first.GetProperty("id").GetGuid()}/qr.png");
        Assert.Equal(HttpStatusCode.OK, qr.StatusCode);
        Assert.Equal("image/png", qr.Content.Headers.ContentType?.MediaType);

        // 6a. Staff redeem part of the first voucher at the till: preview, then confirm.
        var code = first.GetProperty("code").GetString()!;
        var preview = await PostAsync(staff, $"/api/merchants/{merchantId}/redemptions/preview", new { code, amount = 2000 });
        Assert.Equal(3000, preview.GetProperty("balanceAfter").GetProperty("amount").GetInt64());
        var receipt = await PostIdempotentAsync(staff, $"/api/merchants/{merchantId}/redemptions", new { code, amount = 2000 });
        Assert.Equal(3000, receipt.GetProperty("balanceAfter").GetProperty("amount").GetInt64());

        // 6b. Anna gifts the second voucher to Ben, who has an account: it moves to him with a new code.
        var (ben, _) = await host.CustomerAsync("en");
        var benEmail = (await ReadAsync(await ben.GetAsync("/api/customer/profile"), HttpStatusCode.OK)).GetProperty("email").GetString();
        var secondId = second.GetProperty("id").GetGuid();
        await PostIdempotentAsync(anna, $"/api/customer/vouchers/{secondId}/gift", new { recipientEmail = benEmail, message = "Alles Gute!" }, HttpStatusCode.Created);
        var benVoucher = await ReadAsync(await ben.GetAsync($"/api/customer/vouchers/{secondId}"), HttpStatusCode.OK);
        Assert.NotEqual(second.GetProperty("code").GetString(), benVoucher.GetProperty("voucher").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await anna.GetAsync($"/api/customer/vouchers/{secondId}")).StatusCode);

        // 6c. Ben exchanges it with Carla for her voucher; both change hands in one transaction.
        var (carla, _) = await host.CustomerAsync("it");
        var carlaOrder = await PostIdempotentAsync(carla, "/api/customer/orders", new { campaignId, quantity = 1 }, HttpStatusCode.Created);
        using (var gateway = host.Client())
        {
            await PostAsync(gateway, $"/sandbox/checkout/{new Uri(carlaOrder.GetProperty("checkoutUrl").GetString()!).Segments[^1]}/confirm", null);
        }

        var carlaVoucherId = (await ReadAsync(await carla.GetAsync("/api/customer/vouchers"), HttpStatusCode.OK))[0].GetProperty("id").GetGuid();
        var offer = await PostIdempotentAsync(ben, "/api/customer/exchanges", new { offeredVoucherId = secondId, requestedVoucherId = carlaVoucherId }, HttpStatusCode.Created);
        await PostIdempotentAsync(carla, $"/api/customer/exchanges/{offer.GetProperty("id").GetGuid()}/accept", new { });
        var benNow = await ReadAsync(await ben.GetAsync("/api/customer/vouchers"), HttpStatusCode.OK);
        var carlaNow = await ReadAsync(await carla.GetAsync("/api/customer/vouchers"), HttpStatusCode.OK);
        Assert.Equal(carlaVoucherId, Assert.Single(benNow.EnumerateArray()).GetProperty("id").GetGuid());
        Assert.Equal(secondId, Assert.Single(carlaNow.EnumerateArray()).GetProperty("id").GetGuid());

        // The operator sees the whole history of the gifted voucher; the books still match the vouchers.
        var detail = await ReadAsync(await admin.GetAsync($"/api/admin/vouchers/{secondId}"), HttpStatusCode.OK);
        var kinds = detail.GetProperty("activity").EnumerateArray().Select(a => a.GetProperty("kind").GetString()).ToList();
        Assert.Equal(["Issued", "GiftSent", "Transferred", "Exchanged"], kinds);
        var after = Assert.Single((await ReadAsync(await owner.GetAsync($"/api/merchants/{merchantId}/balance"), HttpStatusCode.OK)).EnumerateArray());
        Assert.Equal(13500, after.GetProperty("grossSales").GetInt64());
        Assert.Equal(15000 - 2000, after.GetProperty("outstandingLiability").GetInt64());
    }
}
