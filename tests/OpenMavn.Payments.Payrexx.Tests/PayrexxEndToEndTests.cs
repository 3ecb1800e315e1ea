using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenMavn.Core;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Jobs;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Vouchers;
using OpenMavn.Payrexx.StandIn;

namespace OpenMavn.Payments.Payrexx.Tests;

/// <summary>
/// The real host with the Payrexx provider pointed at the local Payrexx stand-in (which enforces the contract):
/// purchase, webhooks in both formats, duplicates, forgeries, a lost webhook, refunds.
/// </summary>
public sealed class PayrexxEndToEndTests
{
    private const string Instance = "cafe-sonne";
    private const string Secret = "pX7kQ2mLz9Vb4NcR8tY6uWp1sHd5JgA3";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private sealed class Shop : IAsyncDisposable
    {
        private readonly string _directory;

        private Shop(WebApplication app, Uri address, PayrexxStandIn payrexx, string directory, Guid campaignId)
        {
            App = app;
            Address = address;
            Payrexx = payrexx;
            _directory = directory;
            CampaignId = campaignId;
        }

        public WebApplication App { get; }

        public Uri Address { get; }

        public PayrexxStandIn Payrexx { get; }

        public Guid CampaignId { get; }

        public Guid MerchantOwner { get; private set; }

        public LogCapture Logs { get; private set; } = new();

        public static async Task<Shop> StartAsync(string environment = "Development", PayrexxAuthScheme scheme = PayrexxAuthScheme.ApiKey)
        {
            var logs = new LogCapture();
            var payrexx = await PayrexxStandIn.StartAsync();
            payrexx.AddInstance(Instance, Secret);
            var directory = Path.Combine(Path.GetTempPath(), "openmavn-payrexx-e2e", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment, ContentRootPath = directory });
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace);
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["OpenMavn:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "openmavn.db")}",
                ["OpenMavn:Jobs:Enabled"] = "false",
                ["OpenMavn:Jobs:PaymentPollDelay"] = "00:00:00",
                ["OpenMavn:Payments:Payrexx:BaseUrl"] = payrexx.BaseUrl.ToString().TrimEnd('/'),
                ["OpenMavn:Payments:Payrexx:AuthScheme"] = scheme.ToString(),
            });
            builder.Services.AddOpenMavn(builder.Configuration.GetSection("OpenMavn")).AddSqliteStorage().AddPayrexxPayments().AddOpenMavnApis();
            var app = builder.Build();
            app.MapOpenMavnApis();
            await app.StartAsync();
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

            // The SME connects its own Payrexx instance (checked with GET /SignatureCheck/) and publishes a campaign.
            var owner = Actor.Member(Guid.NewGuid());
            var admin = Actor.Admin(Guid.NewGuid());
            await using var scope = app.Services.CreateAsyncScope();
            var merchants = scope.ServiceProvider.GetRequiredService<MerchantService>();
            var merchant = await merchants.RegisterAsync(owner, new RegisterMerchant("Café Sonne", "hallo@sonne.example.ch", "CH", "Europe/Zurich", "de"));
            await merchants.SubmitForReviewAsync(owner, merchant.Id);
            await merchants.ApproveAsync(admin, merchant.Id);
            await merchants.ConnectPaymentAccountAsync(owner, merchant.Id, "payrexx", Instance, Secret);
            var campaigns = scope.ServiceProvider.GetRequiredService<CampaignService>();
            var campaign = await campaigns.CreateAsync(owner, merchant.Id, new CampaignDefinition(
                [new CampaignText("de", "Kaffee-Gutschein"), new CampaignText("en", "Coffee voucher")], "de", "CHF", 5000, 4500, VoucherKind.SingleUse, 100,
                null, null, null, ValidityKind.DaysAfterPurchase, null, 365, true, true));
            await campaigns.PublishAsync(owner, campaign.Id);
            return new Shop(app, address, payrexx, directory, campaign.Id) { MerchantOwner = owner.Id, Logs = logs };
        }

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

        public async Task<(Guid OrderId, int GatewayId)> OrderAsync(HttpClient customer, int quantity)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/customer/orders") { Content = JsonContent.Create(new { campaignId = CampaignId, quantity }) };
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            var response = await customer.SendAsync(request);
            var order = await response.Content.ReadFromJsonAsync<JsonElement>(Json);
            Assert.True(response.StatusCode == HttpStatusCode.Created, order.ToString());
            var stored = await QueryAsync(db => db.Orders.AsNoTracking().FirstAsync(o => o.Id == order.GetProperty("id").GetGuid()));
            Assert.StartsWith(Payrexx.BaseUrl.ToString(), order.GetProperty("checkoutUrl").GetString(), StringComparison.Ordinal);
            return (stored.Id, int.Parse(stored.ProviderPaymentId!, System.Globalization.CultureInfo.InvariantCulture));
        }

        public async Task<JsonElement> PostWebhookAsync(PayrexxWebhook webhook)
        {
            using var client = new HttpClient { BaseAddress = Address };
            var response = await client.PostAsync("/webhooks/payments/payrexx", new StringContent(webhook.Body, Encoding.UTF8, MediaTypeHeaderValue.Parse(webhook.ContentType).MediaType!));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }

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
            await Payrexx.DisposeAsync();
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

    [Theory]
    [InlineData(PayrexxAuthScheme.ApiKey, false)]
    [InlineData(PayrexxAuthScheme.Signature, true)]
    public async Task A_purchase_paid_at_Payrexx_issues_its_vouchers_once_from_a_verified_webhook(PayrexxAuthScheme scheme, bool formWebhook)
    {
        await using var shop = await Shop.StartAsync(scheme: scheme);
        var customer = await shop.CustomerAsync();
        var (orderId, gatewayId) = await shop.OrderAsync(customer, 2);
        var gateway = shop.Payrexx.GetGateway(gatewayId);
        Assert.Equal(9000, gateway.Amount);
        Assert.Equal("CHF", gateway.Currency);
        Assert.Equal(orderId.ToString(), gateway.ReferenceId);

        shop.Payrexx.Pay(gatewayId);
        var waiting = await shop.PostWebhookAsync(shop.Payrexx.BuildWebhook(gatewayId, "waiting", formWebhook));
        var confirmed = await shop.PostWebhookAsync(shop.Payrexx.BuildWebhook(gatewayId, "confirmed", formWebhook));
        var again = await shop.PostWebhookAsync(shop.Payrexx.BuildWebhook(gatewayId, "confirmed", formWebhook));
        Assert.Equal("Queued", waiting.GetProperty("outcome").GetString());
        Assert.Equal("Queued", confirmed.GetProperty("outcome").GetString());
        Assert.Equal("Duplicate", again.GetProperty("outcome").GetString());
        Assert.Equal(0, await shop.QueryAsync(db => db.Vouchers.CountAsync()));

        await shop.DrainAsync();

        Assert.Equal(2, await shop.QueryAsync(db => db.Vouchers.CountAsync(v => v.OrderId == orderId)));
        var order = await shop.QueryAsync(db => db.Orders.AsNoTracking().FirstAsync(o => o.Id == orderId));
        Assert.Equal(OrderStatus.Paid, order.Status);
        Assert.NotNull(order.ProviderTransactionId);
        Assert.Contains(shop.Payrexx.Requests, r => r.Method == "GET" && r.PathAndQuery.Contains($"/Gateway/{gatewayId}/", StringComparison.Ordinal));
        var vouchers = await customer.GetFromJsonAsync<JsonElement>("/api/customer/vouchers");
        Assert.Equal(2, vouchers.GetArrayLength());
    }

    [Fact]
    public async Task Forged_and_tampered_webhooks_issue_nothing_and_a_lost_webhook_is_caught_by_polling()
    {
        await using var shop = await Shop.StartAsync();
        var customer = await shop.CustomerAsync();

        // Forged: says confirmed, but Payrexx says the gateway is still waiting.
        var (forgedOrder, forgedGateway) = await shop.OrderAsync(customer, 1);
        var forged = "{\"transaction\":{\"id\":4242,\"uuid\":\"f0f0f0f0\",\"status\":\"confirmed\",\"amount\":4500,\"referenceId\":\"" + forgedOrder
            + "\",\"invoice\":{\"referenceId\":\"" + forgedOrder + "\",\"paymentRequestId\":" + forgedGateway.ToString(System.Globalization.CultureInfo.InvariantCulture)
            + ",\"currency\":\"CHF\",\"test\":0,\"originalAmount\":4500,\"refundedAmount\":0}}}";
        await shop.PostWebhookAsync(new PayrexxWebhook("application/json", forged));

        // Tampered: paid, but for another amount than the order's.
        var (tamperedOrder, tamperedGateway) = await shop.OrderAsync(customer, 1);
        shop.Payrexx.Pay(tamperedGateway);
        shop.Payrexx.Tamper(tamperedGateway, amount: 100);
        await shop.PostWebhookAsync(shop.Payrexx.BuildWebhook(tamperedGateway, "confirmed"));

        // Lost: paid at Payrexx, no webhook ever arrives.
        var (lostOrder, lostGateway) = await shop.OrderAsync(customer, 1);
        shop.Payrexx.Pay(lostGateway);

        await shop.DrainAsync();
        Assert.Equal(0, await shop.QueryAsync(db => db.Vouchers.CountAsync(v => v.OrderId == forgedOrder || v.OrderId == tamperedOrder)));
        Assert.Equal(0, await shop.QueryAsync(db => db.Vouchers.CountAsync(v => v.OrderId == lostOrder)));

        var round = await shop.App.Services.GetRequiredService<OpenMavnJobs>().RunOnceAsync();
        Assert.True(round.PaymentsResolved >= 1, round.ToString());
        Assert.Equal(1, await shop.QueryAsync(db => db.Vouchers.CountAsync(v => v.OrderId == lostOrder)));
        Assert.Equal(0, await shop.QueryAsync(db => db.Vouchers.CountAsync(v => v.OrderId == forgedOrder || v.OrderId == tamperedOrder)));
        Assert.Equal(OrderStatus.PendingPayment, (await shop.QueryAsync(db => db.Orders.AsNoTracking().FirstAsync(o => o.Id == tamperedOrder))).Status);
    }

    [Fact]
    public async Task Refunds_go_back_through_Payrexx_partially_per_voucher_and_pending_refunds_complete_later()
    {
        await using var shop = await Shop.StartAsync();
        var customer = await shop.CustomerAsync();
        var (orderId, gatewayId) = await shop.OrderAsync(customer, 2);
        var transaction = shop.Payrexx.Pay(gatewayId);
        await shop.PostWebhookAsync(shop.Payrexx.BuildWebhook(gatewayId, "confirmed"));
        await shop.DrainAsync();
        var vouchers = await shop.QueryAsync(db => db.Vouchers.AsNoTracking().Where(v => v.OrderId == orderId).ToListAsync());
        var owner = Actor.Member(shop.MerchantOwner);

        await shop.UseAsync<VoucherService, Refund>(s => s.RefundAsync(owner, vouchers[0].Id, "Customer changed their mind."));
        await shop.DrainAsync();
        var afterFirst = shop.Payrexx.GetTransaction(transaction.Id);
        Assert.Equal(4500, afterFirst.RefundedAmount);
        Assert.Equal(RefundStatus.Completed, (await shop.QueryAsync(db => db.Refunds.AsNoTracking().SingleAsync())).Status);

        shop.Payrexx.RefundsArePending = true;
        var second = await shop.UseAsync<VoucherService, Refund>(s => s.RefundAsync(owner, vouchers[1].Id, "Shop closed."));
        await shop.DrainAsync();
        Assert.Equal(RefundStatus.Pending, (await shop.QueryAsync(db => db.Refunds.AsNoTracking().SingleAsync(r => r.Id == second.Id))).Status);
        Assert.Equal(0, (await shop.App.Services.GetRequiredService<OpenMavnJobs>().RunOnceAsync()).RefundsCompleted);

        shop.Payrexx.SetStatus(gatewayId, "refunded");
        Assert.Equal(1, (await shop.App.Services.GetRequiredService<OpenMavnJobs>().RunOnceAsync()).RefundsCompleted);
        Assert.Equal(RefundStatus.Completed, (await shop.QueryAsync(db => db.Refunds.AsNoTracking().SingleAsync(r => r.Id == second.Id))).Status);
        Assert.Equal(9000, shop.Payrexx.GetTransaction(transaction.Id).RefundedAmount);
    }

    [Fact]
    public async Task Wrong_credentials_are_refused_when_connecting_so_the_merchant_cannot_publish()
    {
        await using var shop = await Shop.StartAsync();
        var owner = Actor.Member(Guid.NewGuid());
        var merchant = await shop.UseAsync<MerchantService, Merchant>(s => s.RegisterAsync(owner, new RegisterMerchant("Bäckerei Mond", "mond@example.ch", "CH", "Europe/Zurich", "de")));

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() =>
            shop.UseAsync<MerchantService, bool>(async s => { await s.ConnectPaymentAccountAsync(owner, merchant.Id, "payrexx", Instance, "not-the-secret"); return true; }));

        Assert.Equal("secret", Assert.Single(error.Errors.Keys));
        Assert.Contains(shop.Payrexx.Requests, r => r.PathAndQuery.Contains("/SignatureCheck/", StringComparison.Ordinal));
        Assert.Null((await shop.UseAsync<MerchantService, Merchant>(s => s.GetAsync(owner, merchant.Id))).PaymentAccount);
    }

    [Fact]
    public async Task An_expired_reservation_deletes_its_Payrexx_gateway_and_returns_the_stock()
    {
        await using var shop = await Shop.StartAsync();
        var customer = await shop.CustomerAsync();
        var (orderId, gatewayId) = await shop.OrderAsync(customer, 3);
        var lapsed = DateTimeOffset.UtcNow.AddMinutes(-1);
        await shop.QueryAsync(db => db.Orders.Where(o => o.Id == orderId).ExecuteUpdateAsync(x => x.SetProperty(o => o.ReservationExpiresAt, lapsed)));

        Assert.Equal(1, (await shop.App.Services.GetRequiredService<OpenMavnJobs>().RunOnceAsync()).ReservationsExpired);
        await shop.DrainAsync();

        Assert.True(shop.Payrexx.GetGateway(gatewayId).Deleted);
        Assert.Contains(shop.Payrexx.Requests, r => r.Method == "DELETE" && r.PathAndQuery.Contains($"/Gateway/{gatewayId}/", StringComparison.Ordinal));
        Assert.Equal(OrderStatus.Expired, (await shop.QueryAsync(db => db.Orders.AsNoTracking().FirstAsync(o => o.Id == orderId))).Status);
        Assert.Equal(0, (await shop.QueryAsync(db => db.Campaigns.AsNoTracking().FirstAsync(c => c.Id == shop.CampaignId))).Reserved);
    }

    [Theory]
    [InlineData(PayrexxAuthScheme.ApiKey)]
    [InlineData(PayrexxAuthScheme.Signature)]
    public async Task The_Payrexx_secret_never_reaches_a_log_line(PayrexxAuthScheme scheme)
    {
        await using var shop = await Shop.StartAsync(scheme: scheme);
        var customer = await shop.CustomerAsync();
        var (orderId, gatewayId) = await shop.OrderAsync(customer, 1);
        shop.Payrexx.Pay(gatewayId);
        await shop.PostWebhookAsync(shop.Payrexx.BuildWebhook(gatewayId, "confirmed"));
        await shop.DrainAsync();
        var voucher = await shop.QueryAsync(db => db.Vouchers.AsNoTracking().FirstAsync(v => v.OrderId == orderId));
        await shop.UseAsync<VoucherService, Refund>(s => s.RefundAsync(Actor.Member(shop.MerchantOwner), voucher.Id, "test"));
        shop.Payrexx.FailNext(500);
        await shop.DrainAsync();
        await shop.App.Services.GetRequiredService<OpenMavnJobs>().RunOnceAsync();
        await shop.DrainAsync();

        var lines = shop.Logs.Lines;
        Assert.True(lines.Count > 20, $"only {lines.Count} log lines were captured");
        Assert.DoesNotContain(lines, l => l.Contains(Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failed_gateway_create_is_never_retried_blindly_the_order_fails_and_its_stock_returns()
    {
        await using var shop = await Shop.StartAsync();
        var customer = await shop.CustomerAsync();
        shop.Payrexx.FailNext(500);
        HttpRequestMessage Request()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/customer/orders") { Content = JsonContent.Create(new { campaignId = shop.CampaignId, quantity = 2 }) };
            request.Headers.Add("Idempotency-Key", "order-after-a-payrexx-outage");
            return request;
        }

        var failed = await customer.SendAsync(Request());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal("application/problem+json", failed.Content.Headers.ContentType?.MediaType);

        // The client retries with the same key: it gets the failed order back, and Payrexx sees no second create.
        var replay = await customer.SendAsync(Request());
        var order = await replay.Content.ReadFromJsonAsync<JsonElement>(Json);
        Assert.True(replay.StatusCode == HttpStatusCode.Created, order.ToString());
        Assert.Equal("Failed", order.GetProperty("status").GetString());
        Assert.Single(shop.Payrexx.Requests, r => r.Method == "POST" && r.PathAndQuery.Contains("/Gateway/", StringComparison.Ordinal));
        Assert.Equal(0, (await shop.QueryAsync(db => db.Campaigns.AsNoTracking().FirstAsync(c => c.Id == shop.CampaignId))).Reserved);

        // A new order (new key) gets its own gateway.
        var (_, gatewayId) = await shop.OrderAsync(customer, 2);
        Assert.Equal(2, shop.Payrexx.Requests.Count(r => r.Method == "POST" && r.PathAndQuery.Contains("/Gateway/", StringComparison.Ordinal)));
        Assert.False(shop.Payrexx.GetGateway(gatewayId).Deleted);
    }

    [Fact]
    public async Task A_refund_whose_answer_was_lost_is_not_sent_again()
    {
        await using var shop = await Shop.StartAsync();
        var customer = await shop.CustomerAsync();
        var (orderId, gatewayId) = await shop.OrderAsync(customer, 2);
        var transaction = shop.Payrexx.Pay(gatewayId);
        await shop.PostWebhookAsync(shop.Payrexx.BuildWebhook(gatewayId, "confirmed"));
        await shop.DrainAsync();
        var voucher = await shop.QueryAsync(db => db.Vouchers.AsNoTracking().FirstAsync(v => v.OrderId == orderId));
        await shop.UseAsync<VoucherService, Refund>(s => s.RefundAsync(Actor.Member(shop.MerchantOwner), voucher.Id, "Changed their mind."));

        // An earlier attempt reached Payrexx, but its answer was lost (a timeout): Payrexx has refunded 4500 already.
        using (var direct = new HttpClient { BaseAddress = shop.Payrexx.BaseUrl })
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"v1.15/Transaction/{transaction.Id}/refund?instance={Instance}")
            {
                Content = new FormUrlEncodedContent([new KeyValuePair<string, string>("amount", "4500")]),
            };
            request.Headers.Add("X-API-KEY", Secret);
            Assert.Equal(HttpStatusCode.OK, (await direct.SendAsync(request)).StatusCode);
        }

        await shop.DrainAsync();

        Assert.Equal(4500, shop.Payrexx.GetTransaction(transaction.Id).RefundedAmount);
        Assert.Single(shop.Payrexx.Requests, r => r.Method == "POST" && r.PathAndQuery.Contains("/refund", StringComparison.Ordinal));
        Assert.Equal(RefundStatus.Completed, (await shop.QueryAsync(db => db.Refunds.AsNoTracking().SingleAsync())).Status);
    }

    [Fact]
    public async Task A_live_deployment_refuses_a_test_mode_payment()
    {
        await using var shop = await Shop.StartAsync(environment: "Production");
        var customer = await shop.CustomerAsync();
        var (orderId, gatewayId) = await shop.OrderAsync(customer, 1);
        shop.Payrexx.Pay(gatewayId, test: true);

        await shop.PostWebhookAsync(shop.Payrexx.BuildWebhook(gatewayId, "confirmed"));
        await shop.DrainAsync();

        Assert.Equal(0, await shop.QueryAsync(db => db.Vouchers.CountAsync(v => v.OrderId == orderId)));
        Assert.Equal(OrderStatus.PendingPayment, (await shop.QueryAsync(db => db.Orders.AsNoTracking().FirstAsync(o => o.Id == orderId))).Status);
    }
}

/// <summary>Captures every formatted log line, with its structured values and exception.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, System.Collections.Concurrent.ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} [{values}] {exception}");
        }
    }
}
