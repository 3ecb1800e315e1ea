using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace OpenMavn.Bench.Load;

/// <summary>What setup created: the merchant, its campaign and API key, the customers and the vouchers to redeem.</summary>
internal sealed record World(Guid MerchantId, Guid CampaignId, string ApiKey, IReadOnlyList<string> CustomerTokens, IReadOnlyList<string> RedeemCodes)
{
    /// <summary>Each client's last order bought in the purchase scenario (client i buys as customer i).</summary>
    public Guid[] LastOrders { get; } = new Guid[CustomerTokens.Count];
}

/// <summary>The OpenMavn HTTP API as the bench uses it (the flows of tests/…/SixStepsOverHttpTests.cs).</summary>
internal sealed class Api(HttpClient http, Uri baseAddress)
{
    public const string Password = "bench-customer-password-1";

    // Large enough that every voucher can be redeemed (1 cent at a time) for the whole run, round-robin.
    public const long FaceValue = 10_000_000;

    public Uri BaseAddress { get; } = baseAddress;

    public HttpClient Http { get; } = http;

    public async Task<World> SetUpAsync(int customers, int redeemVouchers, string adminEmail, string adminPassword)
    {
        var admin = await SignInAsync(adminEmail, adminPassword);
        var owner = await SignUpAsync();
        var merchant = await SendAsync(HttpMethod.Post, "api/merchants/", owner, new { name = "Bench Café", email = "bench@cafe.example.ch", country = "CH", timeZoneId = "Europe/Zurich", language = "de" }, HttpStatusCode.Created);
        var merchantId = merchant.GetProperty("id").GetGuid();
        await SendAsync(HttpMethod.Put, $"api/merchants/{merchantId}/payment-account", owner, new { provider = "sandbox", accountId = "bench-cafe", secret = "sandbox-secret-1" });
        await SendAsync(HttpMethod.Post, $"api/merchants/{merchantId}/kyc/submit", owner, null);
        await SendAsync(HttpMethod.Post, $"api/admin/merchants/{merchantId}/kyc/approve", admin, new { comment = "Bench." });
        var campaign = await SendAsync(HttpMethod.Post, $"api/merchants/{merchantId}/campaigns", owner, new
        {
            texts = new[] { new { language = "en", name = "Bench credit" } },
            defaultLanguage = "en",
            currency = "CHF",
            faceValue = FaceValue,
            price = FaceValue,
            kind = "StoredValue",
            supply = 10_000_000,
            validityKind = "DaysAfterPurchase",
            validityDays = 365,
            transferable = true,
            exchangeable = true,
        }, HttpStatusCode.Created);
        var campaignId = campaign.GetProperty("campaign").GetProperty("id").GetGuid();
        await SendAsync(HttpMethod.Post, $"api/merchants/{merchantId}/campaigns/{campaignId}/publish", owner, null);
        var key = await SendAsync(HttpMethod.Post, $"api/merchants/{merchantId}/api-keys", owner, new { name = "Bench till" }, HttpStatusCode.Created);
        var apiKey = key.GetProperty("secret").GetString()!;

        var tokens = new string[customers];
        await Parallel.ForAsync(0, customers, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            tokens[i] = await SignUpAsync();
            await SendAsync(HttpMethod.Put, "api/customer/profile", tokens[i], new { displayName = $"Bench customer {i}", language = "en" });
        });

        // Vouchers to redeem: bought by the customers in orders of 50 (the default maximum), paid on the sandbox page.
        const int perOrder = 50;
        var orders = (redeemVouchers + perOrder - 1) / perOrder;
        await Parallel.ForAsync(0, orders, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var quantity = Math.Min(perOrder, redeemVouchers - (i * perOrder));
            var (outcome, _, _) = await BuyAsync(tokens[i % customers], campaignId, quantity);
            if (outcome != "VouchersIssued")
            {
                throw new InvalidOperationException($"setup purchase: {outcome}");
            }
        });
        var codes = new List<string>();
        foreach (var token in tokens)
        {
            var vouchers = await SendAsync(HttpMethod.Get, "api/customer/vouchers", token, null);
            codes.AddRange(vouchers.EnumerateArray().Select(v => v.GetProperty("code").GetString()!));
        }

        if (codes.Count < redeemVouchers)
        {
            throw new InvalidOperationException($"setup: {codes.Count} vouchers issued, {redeemVouchers} expected");
        }

        return new World(merchantId, campaignId, apiKey, tokens, codes);
    }

    /// <summary>Places an order (Idempotency-Key) and pays it on the sandbox page; returns the outcome and the order id.</summary>
    public async Task<(string? Outcome, Guid OrderId, HttpStatusCode Status)> BuyAsync(string token, Guid campaignId, int quantity)
    {
        using var place = Request(HttpMethod.Post, "api/customer/orders", token, new { campaignId, quantity });
        place.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var placed = await Http.SendAsync(place);
        if (placed.StatusCode != HttpStatusCode.Created)
        {
            return (null, Guid.Empty, placed.StatusCode);
        }

        var order = await placed.Content.ReadFromJsonAsync<JsonElement>();
        var paymentId = new Uri(order.GetProperty("checkoutUrl").GetString()!).Segments[^1];
        using var confirmed = await Http.PostAsync(new Uri(BaseAddress, $"sandbox/checkout/{paymentId}/confirm"), null);
        if (confirmed.StatusCode != HttpStatusCode.OK)
        {
            return (null, Guid.Empty, confirmed.StatusCode);
        }

        var outcome = (await confirmed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outcome").GetString();
        return (outcome, order.GetProperty("id").GetGuid(), confirmed.StatusCode);
    }

    /// <summary>
    /// After the purchase scenario: each customer's last bought order must answer Paid, and the customer must hold
    /// vouchers of the campaign (the confirm answered VouchersIssued for each counted purchase already).
    /// </summary>
    public async Task<string> CheckPurchasesAsync(World world)
    {
        var checkedOrders = 0;
        foreach (var (orderId, token) in world.LastOrders.Zip(world.CustomerTokens).Where(o => o.First != Guid.Empty))
        {
            var order = await SendAsync(HttpMethod.Get, $"api/customer/orders/{orderId}", token, null);
            var status = order.GetProperty("status").GetString();
            if (status != "Paid")
            {
                return $"order {orderId} answers {status}, not Paid";
            }

            checkedOrders++;
        }

        return $"{checkedOrders} orders (each client's last) answer Paid; every counted purchase's confirm answered VouchersIssued";
    }

    public async Task<string> SignUpAsync()
    {
        var email = $"bench-{Guid.NewGuid():N}@example.ch";
        await SendAsync(HttpMethod.Post, "api/auth/register", null, new { email, password = Password });
        return await SignInAsync(email, Password);
    }

    public async Task<string> SignInAsync(string email, string password)
    {
        var login = await SendAsync(HttpMethod.Post, "api/auth/login", null, new { email, password });
        return login.GetProperty("accessToken").GetString()!;
    }

    public HttpRequestMessage Request(HttpMethod method, string path, string? token, object? body)
    {
        var request = new HttpRequestMessage(method, new Uri(BaseAddress, path));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return request;
    }

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, string? token, object? body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var request = Request(method, path, token, body);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException($"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        }

        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }
}
