using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenMavn.AspNetCore.Http;
using OpenMavn.Core.Persistence;

namespace OpenMavn.AspNetCore.Tests;

public sealed class DemoSeederTests : IDisposable
{
    private static readonly Dictionary<string, string?> SeedDemo = new() { ["OpenMavn:Api:SeedDemo"] = "true" };

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "openmavn-api-tests", "demo-" + Guid.NewGuid().ToString("N"));

    public DemoSeederTests() => Directory.CreateDirectory(_directory);

    [Fact]
    public async Task The_demo_owner_staff_and_customer_sign_in_and_the_customer_can_buy_from_the_demo_merchant()
    {
        await using var host = await ApiHost.StartAsync(SeedDemo);

        var (owner, ownerId) = await host.SignInAsync(DemoSeeder.OwnerEmail, DemoSeeder.OwnerPassword);
        var ownerMe = await owner.GetFromJsonAsync<JsonElement>("/api/me");
        var membership = Assert.Single(ownerMe.GetProperty("merchants").EnumerateArray());
        Assert.Equal(DemoSeeder.MerchantName, membership.GetProperty("name").GetString());
        Assert.Equal("Owner", membership.GetProperty("role").GetString());
        var merchantId = membership.GetProperty("merchantId").GetGuid();
        Assert.NotEqual(Guid.Empty, ownerId);

        var (staff, _) = await host.SignInAsync(DemoSeeder.StaffEmail, DemoSeeder.StaffPassword);
        var staffMe = await staff.GetFromJsonAsync<JsonElement>("/api/me");
        var staffMembership = Assert.Single(staffMe.GetProperty("merchants").EnumerateArray());
        Assert.Equal(merchantId, staffMembership.GetProperty("merchantId").GetGuid());
        Assert.Equal("Staff", staffMembership.GetProperty("role").GetString());

        // Published, in all four languages.
        using var anonymous = host.Client();
        var campaigns = await anonymous.GetFromJsonAsync<JsonElement>($"/api/campaigns?merchantId={merchantId}");
        Assert.Equal(2, campaigns.GetArrayLength());
        var coffee = campaigns.EnumerateArray().Single(c => c.GetProperty("kind").GetString() == "StoredValue");
        var coffeeId = coffee.GetProperty("id").GetGuid();
        var names = new List<string>();
        foreach (var language in new[] { "en", "de", "fr", "it" })
        {
            var localized = await anonymous.GetFromJsonAsync<JsonElement>($"/api/campaigns/{coffeeId}?language={language}");
            Assert.Equal("Published", localized.GetProperty("state").GetString());
            names.Add(localized.GetProperty("name").GetString()!);
        }

        Assert.Equal(["Coffee credit CHF 50", "Kaffee-Guthaben CHF 50", "Crédit café CHF 50", "Credito caffè CHF 50"], names);

        // The customer has a profile, the merchant is approved with a sandbox account: the whole purchase works.
        var (customer, _) = await host.SignInAsync(DemoSeeder.CustomerEmail, DemoSeeder.CustomerPassword);
        var placed = await ApiHost.PostIdempotentAsync(customer, "/api/customer/orders", new { campaignId = coffeeId, quantity = 1 });
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        var order = await placed.Content.ReadFromJsonAsync<JsonElement>();
        var paymentId = new Uri(order.GetProperty("checkoutUrl").GetString()!).Segments[^1];
        var paid = await anonymous.PostAsync($"/sandbox/checkout/{paymentId}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        Assert.Equal("VouchersIssued", (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outcome").GetString());
        var vouchers = await customer.GetFromJsonAsync<JsonElement>("/api/customer/vouchers");
        Assert.Equal(1, vouchers.GetArrayLength());

        // An operator is configured here (ApiHost.AdminEmail), so the demo made none of its own.
        var demoOperator = await anonymous.PostAsJsonAsync("/api/auth/login", new { email = DemoSeeder.OperatorEmail, password = DemoSeeder.OperatorPassword });
        Assert.Equal(HttpStatusCode.Unauthorized, demoOperator.StatusCode);
    }

    [Fact]
    public async Task Without_a_configured_operator_the_demo_creates_one_with_the_admin_role()
    {
        await using var host = await ApiHost.StartAsync(new Dictionary<string, string?>(SeedDemo)
        {
            ["OpenMavn:Api:AdminEmail"] = null,
            ["OpenMavn:Api:AdminPassword"] = null,
        });

        var (client, _) = await host.SignInAsync(DemoSeeder.OperatorEmail, DemoSeeder.OperatorPassword);
        var me = await client.GetFromJsonAsync<JsonElement>("/api/me");
        Assert.True(me.GetProperty("isAdmin").GetBoolean());
        Assert.Equal(0, me.GetProperty("merchants").GetArrayLength());
    }

    [Fact]
    public async Task A_second_start_on_the_same_database_seeds_nothing_new_and_logs_the_credentials_again()
    {
        var database = Path.Combine(_directory, "openmavn.db");
        Counts first;
        await using (var host = await DemoHost.StartAsync("Development", database))
        {
            first = await CountAsync(host.App.Services);
            Assert.Contains(host.Logs, l => l.Contains("Seeded the OpenMavn demo", StringComparison.Ordinal));
            Assert.Single(host.Logs, l => l.Contains(DemoSeeder.OwnerPassword, StringComparison.Ordinal));
        }

        Assert.Equal(new Counts(Users: 4, Customers: 1, Merchants: 1, Members: 2, Campaigns: 2, Translations: 8), first);

        await using (var again = await DemoHost.StartAsync("Development", database))
        {
            Assert.Equal(first, await CountAsync(again.App.Services));
            Assert.DoesNotContain(again.Logs, l => l.Contains("Seeded the OpenMavn demo", StringComparison.Ordinal));
            var credentials = Assert.Single(again.Logs, l => l.Contains(DemoSeeder.OwnerPassword, StringComparison.Ordinal));
            Assert.Contains($"{again.Address.ToString().TrimEnd('/')}/scalar/v1", credentials, StringComparison.Ordinal);

            using var client = new HttpClient { BaseAddress = again.Address };
            var login = await client.PostAsJsonAsync("/api/auth/login", new { email = DemoSeeder.CustomerEmail, password = DemoSeeder.CustomerPassword });
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        }
    }

    [Fact]
    public async Task Outside_Development_SeedDemo_is_ignored_with_a_warning()
    {
        await using var host = await DemoHost.StartAsync("Staging", Path.Combine(_directory, "openmavn.db"));
        using var client = new HttpClient { BaseAddress = host.Address };

        var login = await client.PostAsJsonAsync("/api/auth/login", new { email = DemoSeeder.OwnerEmail, password = DemoSeeder.OwnerPassword });
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/campaigns")).GetArrayLength());
        Assert.Contains(host.Logs, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("SeedDemo is ignored in the Staging environment", StringComparison.Ordinal));
        Assert.Equal(new Counts(0, 0, 0, 0, 0, 0), await CountAsync(host.App.Services));
    }

    [Fact]
    public async Task Without_SeedDemo_nothing_is_seeded()
    {
        await using var host = await ApiHost.StartAsync();
        using var client = host.Client();

        var login = await client.PostAsJsonAsync("/api/auth/login", new { email = DemoSeeder.CustomerEmail, password = DemoSeeder.CustomerPassword });
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/campaigns")).GetArrayLength());
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<Counts> CountAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        return new Counts(
            await db.Users.CountAsync(),
            await db.Customers.CountAsync(),
            await db.Merchants.CountAsync(),
            await db.MerchantMembers.CountAsync(),
            await db.Campaigns.CountAsync(),
            await db.Campaigns.SelectMany(c => c.Translations).CountAsync());
    }

    private sealed record Counts(int Users, int Customers, int Merchants, int Members, int Campaigns, int Translations);

    /// <summary>
    /// A host like <see cref="ApiHost"/> but in a chosen environment, on a given SQLite file, with no operator
    /// configured and every log line captured.
    /// </summary>
    private sealed class DemoHost : IAsyncDisposable
    {
        private readonly ConcurrentQueue<string> _logs;

        private DemoHost(WebApplication app, Uri address, ConcurrentQueue<string> logs)
        {
            App = app;
            Address = address;
            _logs = logs;
        }

        public WebApplication App { get; }

        public Uri Address { get; }

        public IReadOnlyList<string> Logs => _logs.ToArray();

        public static async Task<DemoHost> StartAsync(string environment, string databasePath)
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment, ContentRootPath = Path.GetDirectoryName(databasePath) });
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var logs = new ConcurrentQueue<string>();
            builder.Logging.ClearProviders().AddProvider(new QueueLoggerProvider(logs));
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["OpenMavn:Storage:ConnectionString"] = $"Data Source={databasePath}",
                ["OpenMavn:Jobs:Enabled"] = "false",
                ["OpenMavn:Api:SeedDemo"] = "true",
                ["OpenMavn:Payments:Sandbox:AllowInProduction"] = "true",
            });
            builder.Services.AddOpenMavn(builder.Configuration.GetSection("OpenMavn")).AddSqliteStorage().AddSandboxPayments().AddOpenMavnApis();
            var app = builder.Build();
            app.MapOpenMavnApis();
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new DemoHost(app, new Uri(address), logs);
        }

        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
            SqliteConnection.ClearAllPools();
        }
    }

    private sealed class QueueLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new QueueLogger(lines);

        public void Dispose()
        {
        }

        private sealed class QueueLogger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{logLevel} {formatter(state, exception)}");
        }
    }
}
