using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using OpenMavn.Core;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Customers;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Samples.QrBillPayments.Tests;

/// <summary>
/// A real OpenMavn host on 127.0.0.1 with SQLite storage, the HTTP APIs and the QR-bill provider wired in with one
/// builder call, a merchant that takes QR-bill payments into its QR-IBAN and a published campaign (45.00 CHF).
/// Time is a <see cref="FakeTimeProvider"/> starting now, so a test can let reservations lapse.
/// </summary>
internal sealed class QrBillShop : IAsyncDisposable
{
    public const string QrIban = "CH44 3199 9123 0008 8901 2";
    private readonly string _directory;

    private QrBillShop(WebApplication app, Uri address, string directory, FakeTimeProvider time)
    {
        App = app;
        Address = address;
        _directory = directory;
        Time = time;
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    public FakeTimeProvider Time { get; }

    public Actor Owner { get; private set; } = Actor.System;

    public Guid MerchantId { get; private set; }

    public Guid CampaignId { get; private set; }

    public static async Task<QrBillShop> StartAsync(Action<QrBillOptions>? configure = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "openmavn-qrbill-e2e", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development", ContentRootPath = directory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OpenMavn:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "openmavn.db")}",
            ["OpenMavn:Jobs:Enabled"] = "false",
            ["OpenMavn:Payments:QrBill:ConnectionString"] = $"Data Source={Path.Combine(directory, "qrbill.db")}",
            ["OpenMavn:Payments:QrBill:BillBaseUrl"] = "http://127.0.0.1/qrbill/bills/",
        });
        builder.Services.AddSingleton<TimeProvider>(time);

        // The one line that wires the provider in.
        builder.Services.AddOpenMavn(builder.Configuration.GetSection("OpenMavn")).AddSqliteStorage().AddQrBillPayments(configure).AddOpenMavnApis();
        var app = builder.Build();
        app.MapOpenMavnApis();

        // Where the checkout link points: the bill's QR code for the customer.
        app.MapGet("/qrbill/bills/{id}", async (string id, QrBillService bills, CancellationToken ct) =>
            await bills.GetBillAsync(id, ct) is { } bill ? Results.Content(bill.Svg(), "image/svg+xml") : Results.NotFound());
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var shop = new QrBillShop(app, address, directory, time);

        // The SME connects its QR-IBAN, with its address as the account's JSON "secret", and publishes a campaign.
        var owner = Actor.Member(Guid.NewGuid());
        var admin = Actor.Admin(Guid.NewGuid());
        await using var scope = app.Services.CreateAsyncScope();
        var merchants = scope.ServiceProvider.GetRequiredService<MerchantService>();
        var merchant = await merchants.RegisterAsync(owner, new RegisterMerchant("Café Sonne", "hallo@sonne.example.ch", "CH", "Europe/Zurich", "de"));
        await merchants.SubmitForReviewAsync(owner, merchant.Id);
        await merchants.ApproveAsync(admin, merchant.Id);
        await merchants.ConnectPaymentAccountAsync(owner, merchant.Id, "qrbill", QrIban, ProviderTests.CreditorJson);
        var campaigns = scope.ServiceProvider.GetRequiredService<CampaignService>();
        var campaign = await campaigns.CreateAsync(owner, merchant.Id, new CampaignDefinition(
            [new CampaignText("de", "Kaffee-Gutschein"), new CampaignText("en", "Coffee voucher")], "de", "CHF", 5000, 4500, VoucherKind.SingleUse, 100,
            null, null, null, ValidityKind.DaysAfterPurchase, null, 365, true, true));
        await campaigns.PublishAsync(owner, campaign.Id);
        shop.Owner = owner;
        shop.MerchantId = merchant.Id;
        shop.CampaignId = campaign.Id;
        return shop;
    }

    /// <summary>A customer who registers and logs in over HTTP.</summary>
    public async Task<HttpClient> CustomerAsync()
    {
        var email = $"c{Guid.NewGuid():N}@example.ch";
        var client = new HttpClient { BaseAddress = Address };
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/auth/register", new { email, password = "customer-password-1" })).StatusCode);
        var login = await (await client.PostAsJsonAsync("/api/auth/login", new { email, password = "customer-password-1" })).Content.ReadFromJsonAsync<JsonElement>();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", login.GetProperty("accessToken").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync("/api/customer/profile", new { displayName = "Anna", language = "de" })).StatusCode);
        return client;
    }

    /// <summary>Orders over HTTP; returns the stored order.</summary>
    public async Task<Order> OrderAsync(HttpClient customer, int quantity)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/customer/orders") { Content = JsonContent.Create(new { campaignId = CampaignId, quantity }) };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var response = await customer.SendAsync(request);
        var order = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, order.ToString());
        return await QueryAsync(db => db.Orders.AsNoTracking().FirstAsync(o => o.Id == order.GetProperty("id").GetGuid()));
    }

    /// <summary>Orders through the Core service directly (no HTTP, no tokens: for tests that move the clock).</summary>
    public async Task<Order> OrderDirectAsync(int quantity)
    {
        var userId = Guid.NewGuid();
        await UseAsync<CustomerService, Customer>(c => c.RegisterAsync(userId, $"d{userId:N}@example.ch", "Beat", "de"));
        return await UseAsync<PurchaseService, Order>(p => p.PlaceOrderAsync(Actor.Customer(userId), new PlaceOrder(CampaignId, quantity, Guid.NewGuid().ToString())));
    }

    public Task<QrBillImportReport> ImportAsync(Stream camt054, Actor? actor = null) =>
        UseAsync<QrBillService, QrBillImportReport>(s => s.ImportCamt054Async(actor ?? Owner, MerchantId, camt054));

    public Task<int> DrainAsync() => App.Services.GetRequiredService<OutboxDispatcher>().DrainAsync();

    public async Task<T> QueryAsync<T>(Func<OpenMavnDbContext, Task<T>> query)
    {
        await using var scope = App.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>());
    }

    public async Task<T> UseAsync<TService, T>(Func<TService, Task<T>> work)
        where TService : notnull
    {
        await using var scope = App.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<TService>());
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
