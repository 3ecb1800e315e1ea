using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using OpenMavn.Core;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Customers;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Tests;

/// <summary>
/// A real OpenMavn service provider on a fresh SQLite file, with a fake clock, the sandbox payment provider and a
/// recording notification channel. Background jobs are off: tests run them explicitly.
/// </summary>
public sealed class TestHost : IAsyncDisposable
{
    private readonly string _directory;

    private TestHost(string directory, ServiceProvider services, FakeTimeProvider time, RecordingSender sender, CapturingLoggerProvider logs)
    {
        _directory = directory;
        Services = services;
        Time = time;
        Sent = sender;
        Logs = logs;
    }

    /// <summary>The instant every test starts at (a Monday, winter time in Zurich).</summary>
    public static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    public ServiceProvider Services { get; }

    public FakeTimeProvider Time { get; }

    public RecordingSender Sent { get; }

    public CapturingLoggerProvider Logs { get; }

    public string DatabasePath => Path.Combine(_directory, "openmavn.db");

    public static async Task<TestHost> StartAsync(Action<OpenMavnOptions>? configure = null, Action<IServiceCollection>? services = null, string environment = "Development")
    {
        var directory = Path.Combine(Path.GetTempPath(), "openmavn-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var time = new FakeTimeProvider(Start);
        var sender = new RecordingSender();
        var logs = new CapturingLoggerProvider();
        var collection = new ServiceCollection();
        collection.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        collection.AddSingleton<IHostEnvironment>(new TestEnvironment(environment));
        collection.AddSingleton<TimeProvider>(time);
        collection.AddOpenMavn(o =>
            {
                o.Jobs.Enabled = false;
                configure?.Invoke(o);
            })
            .AddSqliteStorage($"Data Source={Path.Combine(directory, "openmavn.db")}")
            .AddSandboxPayments();
        collection.AddSingleton<INotificationSender>(sender);
        services?.Invoke(collection);
        var provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        await provider.MigrateOpenMavnDatabaseAsync();
        return new TestHost(directory, provider, time, sender, logs);
    }

    /// <summary>Runs <paramref name="work"/> with a service from a fresh scope (its own DbContext).</summary>
    public async Task<TResult> RunAsync<TService, TResult>(Func<TService, Task<TResult>> work)
        where TService : notnull
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<TService>());
    }

    /// <summary>Runs <paramref name="work"/> with a service from a fresh scope.</summary>
    public async Task RunAsync<TService>(Func<TService, Task> work)
        where TService : notnull
    {
        await using var scope = Services.CreateAsyncScope();
        await work(scope.ServiceProvider.GetRequiredService<TService>());
    }

    /// <summary>Reads the database in a fresh scope.</summary>
    public Task<T> QueryAsync<T>(Func<OpenMavnDbContext, Task<T>> query) => RunAsync(query);

    public SandboxPaymentProvider Sandbox => Services.GetRequiredService<SandboxPaymentProvider>();

    public OutboxDispatcher Outbox => Services.GetRequiredService<OutboxDispatcher>();

    /// <summary>Registers a customer (user id = customer id).</summary>
    public async Task<Actor> CreateCustomerAsync(string? email = null, string language = "en")
    {
        var id = Guid.NewGuid();
        await RunAsync<CustomerService, Customers.Customer>(s => s.RegisterAsync(id, email ?? $"c{id:N}@example.ch", "Customer " + id.ToString("N")[..6], language));
        return Actor.Customer(id);
    }

    /// <summary>Registers, submits, approves and connects a merchant (sandbox account). Returns its owner and id.</summary>
    public async Task<(Actor Owner, Guid MerchantId)> CreateApprovedMerchantAsync(string timeZone = "Europe/Zurich")
    {
        var owner = Actor.Member(Guid.NewGuid());
        var admin = Actor.Admin(Guid.NewGuid());
        var merchant = await RunAsync<MerchantService, Merchant>(s => s.RegisterAsync(owner, new RegisterMerchant("Café Sonne", "owner@sonne.example.ch", "CH", timeZone, "de")));
        await RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner, merchant.Id));
        await RunAsync<MerchantService>(s => s.ApproveAsync(admin, merchant.Id));
        await RunAsync<MerchantService>(s => s.ConnectPaymentAccountAsync(owner, merchant.Id, "sandbox", "cafe-sonne", "sk_test_secret_123"));
        return (owner, merchant.Id);
    }

    /// <summary>A valid campaign definition; adjust with <c>with</c>.</summary>
    public static CampaignDefinition Definition(
        long faceValue = 5000,
        long price = 4500,
        VoucherKind kind = VoucherKind.SingleUse,
        int supply = 100,
        string currency = "CHF") =>
        new(
            [new CampaignText("de", "Kaffee-Gutschein", "Für 50 Franken Kaffee"), new CampaignText("en", "Coffee voucher")],
            "de",
            currency,
            faceValue,
            price,
            kind,
            supply,
            PerCustomerLimit: null,
            SalesStartAt: null,
            SalesEndAt: null,
            ValidityKind.DaysAfterPurchase,
            ValidUntil: null,
            ValidityDays: 365,
            Transferable: true,
            Exchangeable: true);

    /// <summary>Creates and publishes a campaign.</summary>
    public async Task<Campaign> CreatePublishedCampaignAsync(Actor owner, Guid merchantId, CampaignDefinition? definition = null)
    {
        var campaign = await RunAsync<CampaignService, Campaign>(s => s.CreateAsync(owner, merchantId, definition ?? Definition()));
        await RunAsync<CampaignService>(s => s.PublishAsync(owner, campaign.Id));
        return campaign;
    }

    /// <summary>Places an order (new idempotency key) for a customer.</summary>
    public Task<Order> OrderAsync(Actor customer, Guid campaignId, int quantity = 1, string? key = null) =>
        RunAsync<PurchaseService, Order>(s => s.PlaceOrderAsync(customer, new PlaceOrder(campaignId, quantity, key ?? Guid.NewGuid().ToString())));

    /// <summary>Orders and pays through the sandbox; returns the order and its vouchers.</summary>
    public async Task<(Order Order, IReadOnlyList<Voucher> Vouchers)> BuyAsync(Actor customer, Guid campaignId, int quantity = 1)
    {
        var order = await OrderAsync(customer, campaignId, quantity);
        if (order.ProviderPaymentId is not null)
        {
            await Sandbox.ConfirmAsync(order.ProviderPaymentId);
        }

        var vouchers = await QueryAsync(db => db.Vouchers.AsNoTracking().Where(v => v.OrderId == order.Id).ToListAsync());
        var paid = await QueryAsync(db => db.Orders.AsNoTracking().FirstAsync(o => o.Id == order.Id));
        return (paid, vouchers);
    }

    /// <summary>Reads a voucher as it is now.</summary>
    public Task<Voucher> VoucherAsync(Guid id) => QueryAsync(db => db.Vouchers.AsNoTracking().FirstAsync(v => v.Id == id));

    /// <summary>The undelivered and delivered outbox messages of a type.</summary>
    public Task<List<OutboxMessage>> OutboxAsync(string type) =>
        QueryAsync(db => db.OutboxMessages.AsNoTracking().Where(m => m.Type == type).OrderBy(m => m.Id).ToListAsync());

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class TestEnvironment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "OpenMavn.Core.Tests";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}

/// <summary>A notification channel ("test") that records what it was asked to send, and can be told to fail.</summary>
public sealed class RecordingSender : INotificationSender
{
    private readonly ConcurrentQueue<NotificationMessage> _sent = new();

    public string Channel => "test";

    /// <summary>When set, every send throws this.</summary>
    public Exception? FailWith { get; set; }

    public IReadOnlyList<NotificationMessage> Messages => _sent.ToArray();

    public int Attempts;

    public Task<NotificationOutcome> SendAsync(NotificationMessage message, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Attempts);
        if (FailWith is { } failure)
        {
            throw failure;
        }

        _sent.Enqueue(message);
        return Task.FromResult(NotificationOutcome.Sent);
    }

    public IEnumerable<NotificationMessage> OfType(string type) => Messages.Where(m => m.Type == type);
}

/// <summary>Captures every formatted log line (to prove secrets never reach a log).</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? JsonSerializer.Serialize(pairs.ToDictionary(p => p.Key, p => p.Value?.ToString())) : "";
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {structured} {exception}");
        }
    }
}
