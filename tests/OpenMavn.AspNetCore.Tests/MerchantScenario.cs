using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core;
using OpenMavn.Core.Merchants;

namespace OpenMavn.AspNetCore.Tests;

/// <summary>
/// Steps of the merchant journey over HTTP, shared by the merchant and integration API tests: sign up, register,
/// get approved (the operator acts through Core), connect the sandbox account, publish a campaign, sell vouchers.
/// Clients made here record every response body, so a test can check what was ever sent back.
/// </summary>
internal sealed class MerchantScenario(ApiHost host)
{
    public const string SandboxSecret = "sbx-secret-Zq8pW3nT5vR1";

    public ApiHost Host { get; } = host;

    /// <summary>Every response body any recorded client received.</summary>
    public ConcurrentQueue<string> Bodies { get; } = new();

    /// <summary>A new user's client (recording), and the user id.</summary>
    public async Task<(HttpClient Client, Guid UserId)> UserAsync()
    {
        var (client, id) = await Host.SignUpAsync();
        return (Recording(client), id);
    }

    /// <summary>A recording copy of <paramref name="client"/> (same address and headers).</summary>
    public HttpClient Recording(HttpClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        var recording = new HttpClient(new RecordingHandler(Bodies) { InnerHandler = new SocketsHttpHandler() }) { BaseAddress = Host.Address };
        foreach (var header in client.DefaultRequestHeaders)
        {
            recording.DefaultRequestHeaders.TryAddWithoutValidation(header.Key, header.Value);
        }

        client.Dispose();
        return recording;
    }

    /// <summary>A recording client sending <paramref name="apiKey"/> as X-Api-Key.</summary>
    public HttpClient Till(string apiKey)
    {
        var client = Recording(Host.Client());
        client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    /// <summary>POST /api/merchants; returns the merchant id.</summary>
    public static async Task<Guid> RegisterAsync(HttpClient owner, string name = "Café Lumière")
    {
        ArgumentNullException.ThrowIfNull(owner);
        var response = await owner.PostAsJsonAsync("/api/merchants", new { name, email = "shop@lumiere.ch", country = "CH", timeZoneId = "Europe/Zurich", language = "de" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    /// <summary>The owner submits KYC; the operator approves through Core.</summary>
    public async Task ApproveAsync(HttpClient owner, Guid merchantId)
    {
        ArgumentNullException.ThrowIfNull(owner);
        Assert.Equal(HttpStatusCode.OK, (await owner.PostAsync($"/api/merchants/{merchantId}/kyc/submit", null)).StatusCode);
        await using var scope = Host.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<MerchantService>().ApproveAsync(Actor.Admin(Guid.NewGuid()), merchantId, "Documents verified.");
    }

    /// <summary>PUT the sandbox payment account.</summary>
    public static async Task ConnectSandboxAsync(HttpClient owner, Guid merchantId)
    {
        ArgumentNullException.ThrowIfNull(owner);
        var response = await owner.PutAsJsonAsync($"/api/merchants/{merchantId}/payment-account", new { provider = "sandbox", accountId = "lumiere", secret = SandboxSecret });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>A campaign body: CHF 50.00 for CHF 40.00, single use, valid a year.</summary>
    public static object CampaignBody(string name = "Brunch for two", long faceValue = 5000, long price = 4000, string kind = "SingleUse", int supply = 100) => new
    {
        texts = new[] { new { language = "de", name, description = "Samstag und Sonntag" }, new { language = "en", name = name + " (en)", description = "Saturdays and Sundays" } },
        defaultLanguage = "de",
        currency = "CHF",
        faceValue,
        price,
        kind,
        supply,
        perCustomerLimit = 10,
        validityKind = "DaysAfterPurchase",
        validityDays = 365,
        transferable = true,
        exchangeable = false,
    };

    /// <summary>POST a campaign and publish it; returns its id.</summary>
    public static async Task<Guid> PublishedCampaignAsync(HttpClient owner, Guid merchantId, object? body = null)
    {
        ArgumentNullException.ThrowIfNull(owner);
        var created = await owner.PostAsJsonAsync($"/api/merchants/{merchantId}/campaigns", body ?? CampaignBody());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("campaign").GetProperty("id").GetGuid();
        var published = await owner.PostAsync($"/api/merchants/{merchantId}/campaigns/{id}/publish", null);
        Assert.Equal(HttpStatusCode.OK, published.StatusCode);
        return id;
    }

    /// <summary>An approved merchant with a sandbox account and a published campaign.</summary>
    public async Task<(HttpClient Owner, Guid OwnerId, Guid MerchantId, Guid CampaignId)> ReadyMerchantAsync(string name = "Café Lumière", object? campaign = null)
    {
        var (owner, ownerId) = await UserAsync();
        var merchantId = await RegisterAsync(owner, name);
        await ApproveAsync(owner, merchantId);
        await ConnectSandboxAsync(owner, merchantId);
        var campaignId = await PublishedCampaignAsync(owner, merchantId, campaign);
        return (owner, ownerId, merchantId, campaignId);
    }

    /// <summary>Adds a newly signed-up user as staff; returns their client.</summary>
    public async Task<(HttpClient Staff, Guid StaffId)> StaffAsync(HttpClient owner, Guid merchantId)
    {
        ArgumentNullException.ThrowIfNull(owner);
        var (staff, staffId) = await UserAsync();
        var added = await owner.PostAsJsonAsync($"/api/merchants/{merchantId}/members", new { userId = staffId, role = "Staff" });
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        return (staff, staffId);
    }

    /// <summary>A customer buys and pays through the sandbox; returns the vouchers (id, code) of that order.</summary>
    public async Task<IReadOnlyList<(Guid Id, string Code)>> BuyAsync(Guid campaignId, int quantity = 1)
    {
        using var customer = Recording((await Host.CustomerAsync()).Client);
        var order = await ApiHost.PostIdempotentAsync(customer, "/api/customer/orders", new { campaignId, quantity });
        Assert.Equal(HttpStatusCode.Created, order.StatusCode);
        var checkoutUrl = (await order.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checkoutUrl").GetString()!;
        var paymentId = new Uri(checkoutUrl).Segments[^1];
        using var anonymous = Host.Client();
        var paid = await anonymous.PostAsync($"/sandbox/checkout/{paymentId}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        var vouchers = await customer.GetFromJsonAsync<JsonElement>("/api/customer/vouchers");
        return vouchers.EnumerateArray().Where(v => v.GetProperty("campaignId").GetGuid() == campaignId)
            .Select(v => (v.GetProperty("id").GetGuid(), v.GetProperty("code").GetString()!)).ToList();
    }

    /// <summary>Asserts an exact status, a problem+json body and its code; returns the problem.</summary>
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        return problem;
    }

    /// <summary>Asserts a 400 validation problem naming each of <paramref name="fields"/>.</summary>
    public static async Task<JsonElement> FieldsAsync(HttpResponseMessage response, string code, params string[] fields)
    {
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest, code);
        var errors = problem.GetProperty("errors");
        foreach (var field in fields)
        {
            Assert.True(errors.TryGetProperty(field, out _), $"No error for '{field}' in {errors}");
        }

        return problem;
    }

    /// <summary>POST with a JSON body and an Idempotency-Key.</summary>
    public static Task<HttpResponseMessage> PostWithKeyAsync(HttpClient client, string url, object body, string key) =>
        ApiHost.PostIdempotentAsync(client, url, body, key);

    private sealed class RecordingHandler(ConcurrentQueue<string> bodies) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            bodies.Enqueue(System.Text.Encoding.UTF8.GetString(bytes) + "\n" + string.Join("\n", response.Headers.Select(h => $"{h.Key}: {string.Join(",", h.Value)}")));
            return response;
        }
    }
}
