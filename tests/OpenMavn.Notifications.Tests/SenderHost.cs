using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;
using OpenMavn.Core;
using OpenMavn.Core.Customers;
using OpenMavn.Core.Notifications;

namespace OpenMavn.Notifications.Tests;

/// <summary>
/// The notification senders composed as a host composes them: <c>AddOpenMavn(configuration.GetSection("OpenMavn"))</c>
/// on a fresh SQLite file (migrated), the channels under test, and a logger that captures every line.
/// </summary>
internal sealed class SenderHost : IAsyncDisposable
{
    private readonly string _directory;

    private SenderHost(string directory, ServiceProvider services, CapturingLoggerProvider logs)
    {
        _directory = directory;
        Services = services;
        Logs = logs;
    }

    public ServiceProvider Services { get; }

    public CapturingLoggerProvider Logs { get; }

    /// <summary>
    /// Builds the host from <paramref name="settings"/> (full keys, <c>OpenMavn:…</c>) and lets
    /// <paramref name="channels"/> add the senders (<c>b => b.AddSendGridEmail()</c>).
    /// </summary>
    public static async Task<SenderHost> StartAsync(Dictionary<string, string?> settings, Action<IOpenMavnBuilder> channels)
    {
        var directory = Path.Combine(Path.GetTempPath(), "openmavn-notification-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var all = new Dictionary<string, string?>(settings)
        {
            ["OpenMavn:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "openmavn.db")}",
            ["OpenMavn:Jobs:Enabled"] = "false",
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(all).Build();
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        services.AddSingleton<IHostEnvironment>(new HostingEnvironment { EnvironmentName = Environments.Production, ApplicationName = "OpenMavn.Notifications.Tests" });
        channels(services.AddOpenMavn(configuration.GetSection("OpenMavn")).AddSqliteStorage());
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        await provider.MigrateOpenMavnDatabaseAsync();
        return new SenderHost(directory, provider, logs);
    }

    /// <summary>Sends through the sender of <paramref name="channel"/>, resolved in a fresh scope as the outbox does.</summary>
    public async Task<NotificationOutcome> SendAsync(string channel, NotificationMessage message, CancellationToken cancellationToken = default)
    {
        await using var scope = Services.CreateAsyncScope();
        var sender = scope.ServiceProvider.GetServices<INotificationSender>().Single(s => s.Channel == channel);
        return await sender.SendAsync(message, cancellationToken);
    }

    /// <summary>Registers a customer and their push devices through <see cref="CustomerService"/>; returns the user id.</summary>
    public async Task<Guid> CreateCustomerAsync(string language, params string[] deviceTokens)
    {
        var id = Guid.NewGuid();
        await using var scope = Services.CreateAsyncScope();
        var customers = scope.ServiceProvider.GetRequiredService<CustomerService>();
        await customers.RegisterAsync(id, $"c{id:N}@example.ch", "Anna Muster", language);
        foreach (var token in deviceTokens)
        {
            await customers.RegisterDeviceAsync(Actor.Customer(id), token, "android");
        }

        return id;
    }

    /// <summary>Registers one more push device of a customer.</summary>
    public async Task AddDeviceAsync(Guid userId, string deviceToken)
    {
        await using var scope = Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<CustomerService>().RegisterDeviceAsync(Actor.Customer(userId), deviceToken, "ios");
    }

    /// <summary>The push tokens <see cref="IPushDevices"/> returns for a user now.</summary>
    public async Task<IReadOnlyList<string>> TokensAsync(Guid userId)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IPushDevices>().GetTokensAsync(userId);
    }

    /// <summary>Asserts that no captured log line contains <paramref name="secret"/>.</summary>
    public void AssertNotLogged(string secret)
    {
        Assert.False(string.IsNullOrEmpty(secret));
        var line = Logs.Lines.FirstOrDefault(l => l.Contains(secret, StringComparison.Ordinal));
        Assert.True(line is null, $"A log line contains a secret: {line}");
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

/// <summary>Captures every log line: the formatted message, every structured value and the exception text.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
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
            // Plain key=value (no JSON escaping that could hide a secret from a substring check).
            var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            lines.Enqueue($"{logLevel} {category}[{eventId.Id}]: {formatter(state, exception)} {structured} {exception}");
        }
    }
}
