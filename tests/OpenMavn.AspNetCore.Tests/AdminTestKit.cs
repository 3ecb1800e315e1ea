using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.AspNetCore.Apis;
using OpenMavn.Core;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Merchants;

namespace OpenMavn.AspNetCore.Tests;

/// <summary>
/// Sets up merchants and campaigns through the Core use cases (the merchant API is not needed for it) and buys
/// vouchers over HTTP as a customer would.
/// </summary>
internal static class AdminTestKit
{
    /// <summary>Runs <paramref name="work"/> with a Core service from a fresh scope.</summary>
    public static async Task RunAsync<TService>(ApiHost host, Func<TService, Task> work)
        where TService : notnull
    {
        await using var scope = host.Services.CreateAsyncScope();
        await work(scope.ServiceProvider.GetRequiredService<TService>());
    }

    /// <summary>Runs <paramref name="work"/> with a Core service from a fresh scope.</summary>
    public static async Task<T> RunAsync<TService, T>(ApiHost host, Func<TService, Task<T>> work)
        where TService : notnull
    {
        await using var scope = host.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<TService>());
    }

    /// <summary>A user registers a merchant through <see cref="MerchantService"/> and, unless told otherwise, submits it for review.</summary>
    public static async Task<Guid> RegisterMerchantAsync(ApiHost host, Guid ownerId, string name = "Café Sonne", bool submit = true)
    {
        var owner = Actor.Member(ownerId);
        var merchant = await RunAsync<MerchantService, Merchant>(host, s => s.RegisterAsync(owner, new RegisterMerchant(name, "owner@sonne.example.ch", "CH", "Europe/Zurich", "de")));
        if (submit)
        {
            await RunAsync<MerchantService>(host, s => s.SubmitForReviewAsync(owner, merchant.Id));
        }

        return merchant.Id;
    }

    /// <summary>A merchant reviewed and approved (by an operator of the Core), with a sandbox payment account.</summary>
    public static async Task<Guid> ApprovedMerchantAsync(ApiHost host, Guid ownerId, string name = "Café Sonne")
    {
        var merchantId = await RegisterMerchantAsync(host, ownerId, name);
        await RunAsync<MerchantService>(host, s => s.ApproveAsync(Actor.Admin(Guid.NewGuid()), merchantId));
        await RunAsync<MerchantService>(host, s => s.ConnectPaymentAccountAsync(Actor.Member(ownerId), merchantId, "sandbox", "cafe-sonne", "sk_test_secret_123"));
        return merchantId;
    }

    /// <summary>A campaign definition: CHF 50.00 stored-value vouchers for CHF 45.00.</summary>
    public static CampaignDefinition Definition(long faceValue = 5000, long price = 4500, VoucherKind kind = VoucherKind.StoredValue, string name = "Coffee voucher") =>
        new(
            [new CampaignText("en", name, "Fifty francs of coffee")],
            "en",
            "CHF",
            faceValue,
            price,
            kind,
            Supply: 100,
            PerCustomerLimit: null,
            SalesStartAt: null,
            SalesEndAt: null,
            ValidityKind.DaysAfterPurchase,
            ValidUntil: null,
            ValidityDays: 365,
            Transferable: true,
            Exchangeable: true);

    /// <summary>Creates a draft campaign.</summary>
    public static async Task<Guid> DraftCampaignAsync(ApiHost host, Guid ownerId, Guid merchantId, CampaignDefinition? definition = null) =>
        (await RunAsync<CampaignService, Campaign>(host, s => s.CreateAsync(Actor.Member(ownerId), merchantId, definition ?? Definition()))).Id;

    /// <summary>Creates and publishes a campaign.</summary>
    public static async Task<Guid> PublishedCampaignAsync(ApiHost host, Guid ownerId, Guid merchantId, CampaignDefinition? definition = null)
    {
        var id = await DraftCampaignAsync(host, ownerId, merchantId, definition);
        await RunAsync<CampaignService>(host, s => s.PublishAsync(Actor.Member(ownerId), id));
        return id;
    }

    /// <summary>Places an order over HTTP (returns the response as it is).</summary>
    public static Task<HttpResponseMessage> OrderAsync(HttpClient customer, Guid campaignId, int quantity = 1) =>
        ApiHost.PostIdempotentAsync(customer, "/api/customer/orders", new { campaignId, quantity });

    /// <summary>Buys one voucher over HTTP and pays on the sandbox payment page; returns the new voucher.</summary>
    public static async Task<(VoucherView Voucher, string PaymentId)> BuyAsync(ApiHost host, HttpClient customer, Guid campaignId)
    {
        var placed = await OrderAsync(customer, campaignId);
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        var order = (await placed.Content.ReadFromJsonAsync<OrderView>(ApiHost.Json))!;
        var paymentId = new Uri(order.CheckoutUrl!).Segments[^1];
        using var page = host.Client();
        var paid = await page.PostAsync($"/sandbox/checkout/{paymentId}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        var mine = (await customer.GetFromJsonAsync<List<VoucherView>>("/api/customer/vouchers", ApiHost.Json))!;
        return (mine.Where(v => v.CampaignId == campaignId).OrderByDescending(v => v.IssuedAt).First(), paymentId);
    }

    /// <summary>Asserts a problem response: exact status, <c>application/problem+json</c> and the stable code; returns the body.</summary>
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        return problem;
    }

    /// <summary>Reads a successful JSON response, failing with the body when the status differs.</summary>
    public static async Task<T> OkAsync<T>(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.OK)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<T>(body, ApiHost.Json)!;
    }

    /// <summary>POSTs JSON (or nothing) without an idempotency key.</summary>
    public static Task<HttpResponseMessage> PostAsync(HttpClient client, string url, object? body = null) =>
        body is null ? client.PostAsync(url, null) : client.PostAsJsonAsync(url, body, ApiHost.Json);
}
