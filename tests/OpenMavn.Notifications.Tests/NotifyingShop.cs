using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
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
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Vouchers;
using OpenMavn.Notifications.StandIn;

namespace OpenMavn.Notifications.Tests;

/// <summary>
/// The real host (Kestrel on 127.0.0.1, SQLite file, sandbox payments, the APIs) with SendGrid email and FCM push
/// pointed at the local stand-ins, a German-speaking SME with a published campaign, and an operator account.
/// Jobs are off: tests drain the outbox themselves.
/// </summary>
internal sealed class NotifyingShop : IAsyncDisposable
{
    public const string ApiKey = "SG.e2e-secret-key-0123456789";
    public const string AdminEmail = "ops@openmavn.test";
    public const string AdminPassword = "operator-password-1";
    public const string MerchantEmail = "hallo@sonne.example.ch";
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly string _directory;

    private NotifyingShop(WebApplication app, Uri address, SendGridStandIn sendGrid, GoogleStandIn google, string directory, Guid campaignId, LogCapture logs)
    {
        App = app;
        Address = address;
        SendGrid = sendGrid;
        Google = google;
        _directory = directory;
        CampaignId = campaignId;
        Logs = logs;
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    public SendGridStandIn SendGrid { get; }

    public GoogleStandIn Google { get; }

    public Guid CampaignId { get; }

    public LogCapture Logs { get; }

    public static async Task<NotifyingShop> StartAsync()
    {
        var sendGrid = await SendGridStandIn.StartAsync(ApiKey);
        var google = await GoogleStandIn.StartAsync("openmavn-e2e");
        var account = google.CreateServiceAccount();
        var directory = Path.Combine(Path.GetTempPath(), "openmavn-notifications-e2e", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var logs = new LogCapture();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Development", ContentRootPath = directory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OpenMavn:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "openmavn.db")}",
            ["OpenMavn:Jobs:Enabled"] = "false",
            ["OpenMavn:Outbox:RetryBaseDelay"] = "00:00:00.050",
            ["OpenMavn:Outbox:RetryMaxDelay"] = "00:00:00.200",
            ["OpenMavn:Api:AdminEmail"] = AdminEmail,
            ["OpenMavn:Api:AdminPassword"] = AdminPassword,
            ["OpenMavn:Api:SignInPermitsPerMinute"] = "1000",
            ["OpenMavn:Notifications:SendGrid:ApiKey"] = ApiKey,
            ["OpenMavn:Notifications:SendGrid:Host"] = sendGrid.BaseUrl.ToString().TrimEnd('/'),
            ["OpenMavn:Notifications:SendGrid:FromEmail"] = "gutscheine@openmavn.example.ch",
            ["OpenMavn:Notifications:SendGrid:FromName"] = "OpenMavn",
            ["OpenMavn:Notifications:Firebase:ProjectId"] = "openmavn-e2e",
            ["OpenMavn:Notifications:Firebase:ServiceAccountJson"] = account.Json,
            ["OpenMavn:Notifications:Firebase:Endpoint"] = google.BaseUrl.ToString().TrimEnd('/'),
        });
        builder.Services.AddOpenMavn(builder.Configuration.GetSection("OpenMavn"))
            .AddSqliteStorage()
            .AddSandboxPayments()
            .AddSendGridEmail()
            .AddFirebasePush()
            .AddOpenMavnApis();
        var app = builder.Build();
        app.MapOpenMavnApis();
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

        var owner = Actor.Member(Guid.NewGuid());
        var admin = Actor.Admin(Guid.NewGuid());
        await using var scope = app.Services.CreateAsyncScope();
        var merchants = scope.ServiceProvider.GetRequiredService<MerchantService>();
        var merchant = await merchants.RegisterAsync(owner, new RegisterMerchant("Café Sonne", MerchantEmail, "CH", "Europe/Zurich", "de"));
        await merchants.SubmitForReviewAsync(owner, merchant.Id);
        await merchants.ApproveAsync(admin, merchant.Id);
        await merchants.ConnectPaymentAccountAsync(owner, merchant.Id, "sandbox", "cafe-sonne", "sandbox-secret-1");
        var campaigns = scope.ServiceProvider.GetRequiredService<CampaignService>();
        var campaign = await campaigns.CreateAsync(owner, merchant.Id, new CampaignDefinition(
            [new CampaignText("de", "Kaffee-Gutschein"), new CampaignText("en", "Coffee voucher")], "de", "CHF", 5000, 4500, VoucherKind.SingleUse, 100,
            null, null, null, ValidityKind.DaysAfterPurchase, null, 365, true, true));
        await campaigns.PublishAsync(owner, campaign.Id);

        // The SME's KYC email is delivered now, so tests start with empty mailboxes.
        await app.Services.GetRequiredService<OutboxDispatcher>().DrainAsync();
        Assert.Single(sendGrid.Mails, m => m.CustomArgs["notification_type"] == "merchant.kyc_decided");
        sendGrid.ClearMails();
        sendGrid.ClearRequests();
        return new NotifyingShop(app, address, sendGrid, google, directory, campaign.Id, logs);
    }

    /// <summary>A signed-in customer with a profile in <paramref name="language"/> and one push device.</summary>
    public async Task<(HttpClient Client, string Email, string DeviceToken)> CustomerAsync(string language, string name = "Anna")
    {
        var email = $"c{Guid.NewGuid():N}@example.ch";
        var client = new HttpClient { BaseAddress = Address };
        await ExpectAsync(await client.PostAsJsonAsync("/api/auth/register", new { email, password = "customer-password-1" }), HttpStatusCode.OK);
        var login = await ExpectAsync(await client.PostAsJsonAsync("/api/auth/login", new { email, password = "customer-password-1" }), HttpStatusCode.OK);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", login.GetProperty("accessToken").GetString());
        await ExpectAsync(await client.PutAsJsonAsync("/api/customer/profile", new { displayName = name, language }), HttpStatusCode.OK);
        var token = $"fcm-{Guid.NewGuid():N}";
        Google.RegisterDevice(token);
        await ExpectAsync(await client.PostAsJsonAsync("/api/customer/devices", new { token, platform = "android" }), HttpStatusCode.Created);
        return (client, email, token);
    }

    /// <summary>Orders and pays on the sandbox page; returns the order id.</summary>
    public async Task<Guid> BuyAsync(HttpClient customer, int quantity)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/customer/orders") { Content = JsonContent.Create(new { campaignId = CampaignId, quantity }) };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var order = await ExpectAsync(await customer.SendAsync(request), HttpStatusCode.Created);
        var paymentId = new Uri(order.GetProperty("checkoutUrl").GetString()!).Segments[^1];
        using var gateway = new HttpClient { BaseAddress = Address };
        var paid = await ExpectAsync(await gateway.PostAsync($"/sandbox/checkout/{paymentId}/confirm", null), HttpStatusCode.OK);
        Assert.Equal("VouchersIssued", paid.GetProperty("outcome").GetString());
        return order.GetProperty("id").GetGuid();
    }

    public async Task<HttpClient> AdminAsync()
    {
        var client = new HttpClient { BaseAddress = Address };
        var login = await ExpectAsync(await client.PostAsJsonAsync("/api/auth/login", new { email = AdminEmail, password = AdminPassword }), HttpStatusCode.OK);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", login.GetProperty("accessToken").GetString());
        return client;
    }

    public Task<int> DrainAsync() => App.Services.GetRequiredService<OutboxDispatcher>().DrainAsync();

    /// <summary>Drains until no notification is pending (waiting out backoff and Retry-After), at most <paramref name="timeout"/>.</summary>
    public async Task DrainUntilDeliveredAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await DrainAsync();
            var pending = await QueryAsync(db => db.OutboxMessages.CountAsync(m => m.ProcessedAt == null && m.FailedAt == null));
            if (pending == 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{pending} outbox message(s) still pending after {timeout}.");
            await Task.Delay(100);
        }
    }

    public async Task<T> QueryAsync<T>(Func<OpenMavnDbContext, Task<T>> query)
    {
        await using var scope = App.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>());
    }

    public static async Task<JsonElement> ExpectAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        await SendGrid.DisposeAsync();
        await Google.DisposeAsync();
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

/// <summary>Every log line the host writes, formatted, with exceptions.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (owner._lines)
            {
                owner._lines.Add($"{logLevel} {category}: {formatter(state, exception)} {exception}");
            }
        }
    }
}
