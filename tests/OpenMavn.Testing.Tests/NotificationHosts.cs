using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenMavn.Core;
using OpenMavn.Core.Customers;
using OpenMavn.Core.Notifications;

namespace OpenMavn.Testing.Tests;

/// <summary>
/// The notification senders composed as a host composes them: <c>AddOpenMavn(configuration.GetSection("OpenMavn"))</c>
/// on a fresh SQLite file (migrated; push device tokens live there), the channels under test, and a logger that
/// keeps every entry with its structured values.
/// </summary>
internal sealed class NotificationSenderHost : IAsyncDisposable
{
    private readonly string _directory;

    private NotificationSenderHost(string directory, ServiceProvider services, NotificationLogCapture logs)
    {
        _directory = directory;
        Services = services;
        Logs = logs;
    }

    public ServiceProvider Services { get; }

    public NotificationLogCapture Logs { get; }

    public static async Task<NotificationSenderHost> StartAsync(Dictionary<string, string?> settings, Action<IOpenMavnBuilder> channels)
    {
        var directory = Path.Combine(Path.GetTempPath(), "openmavn-conformance", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var all = new Dictionary<string, string?>(settings)
        {
            ["OpenMavn:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "openmavn.db")}",
            ["OpenMavn:Jobs:Enabled"] = "false",
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(all).Build();
        var logs = new NotificationLogCapture();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        channels(services.AddOpenMavn(configuration.GetSection("OpenMavn")).AddSqliteStorage());
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        await provider.MigrateOpenMavnDatabaseAsync();
        return new NotificationSenderHost(directory, provider, logs);
    }

    /// <summary>The sender of <paramref name="channel"/>, resolved in <paramref name="scope"/> as the outbox resolves it.</summary>
    public static INotificationSender SenderOf(IServiceProvider scope, string channel) =>
        scope.GetServices<INotificationSender>().Single(s => s.Channel == channel);

    /// <summary>Registers a customer with <paramref name="deviceTokens"/> as push devices; returns the user id.</summary>
    public async Task<Guid> CreateCustomerAsync(params string[] deviceTokens)
    {
        var id = Guid.NewGuid();
        await using var scope = Services.CreateAsyncScope();
        var customers = scope.ServiceProvider.GetRequiredService<CustomerService>();
        await customers.RegisterAsync(id, $"c{id:N}@example.ch", "Anna Muster", "en");
        foreach (var token in deviceTokens)
        {
            await customers.RegisterDeviceAsync(Actor.Customer(id), token, "android");
        }

        return id;
    }

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
}

/// <summary>Keeps every log entry: category, event id and structured values.</summary>
internal sealed class NotificationLogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => _entries.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    internal sealed record LogEntry(string Category, int EventId, IReadOnlyDictionary<string, string?> Values);

    private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.ToDictionary(p => p.Key, p => p.Value?.ToString(), StringComparer.Ordinal)
                : [];
            entries.Enqueue(new LogEntry(category, eventId.Id, values));
        }
    }
}

/// <summary>Complete template models, with the keys Core produces (docs/notifications.md).</summary>
internal static class NotificationModels
{
    /// <summary>A voucher.purchased model whose merchant name is <paramref name="merchantName"/> (shown in subject-free parts: push body, text).</summary>
    public static Dictionary<string, string> Purchased(string merchantName) => new()
    {
        ["campaignName"] = "Brunch", ["merchantName"] = merchantName, ["quantity"] = "2", ["codes"] = "ABCD-EFGH-JKMN-PQRS-TVW0",
        ["faceValue"] = "CHF 50.00", ["amountPaid"] = "CHF 90.00", ["expiresAt"] = "2027-12-31T23:00:00.0000000+00:00",
        ["expiresOn"] = "2027-12-31", ["orderId"] = Guid.NewGuid().ToString(), ["timeZone"] = "Europe/Zurich",
    };

    /// <summary>
    /// The collapse key the push sender derives from a dedupe key (what FCM and the device see): the first 32
    /// characters of base64(SHA-256(key)), URL-safe. Spelled out here because it is the wire contract.
    /// </summary>
    public static string CollapseKey(string dedupeKey) =>
        Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(dedupeKey)))[..32].Replace('+', '-').Replace('/', '_');
}
