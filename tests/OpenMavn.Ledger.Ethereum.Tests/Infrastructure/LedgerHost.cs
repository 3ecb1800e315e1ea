using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

/// <summary>
/// A real OpenMavn service provider (Core, SQLite file, sandbox payments) with the Ethereum ledger pointed at a local
/// anvil, in the Development environment (so the contract is deployed on the first round). Jobs are off: tests drain
/// the outbox and run the worker themselves. Several hosts may share one database folder (restarts, two workers).
/// </summary>
internal sealed class LedgerHost : IAsyncDisposable
{
    private readonly bool _ownsDirectory;

    private LedgerHost(string directory, bool ownsDirectory, ServiceProvider services, FakeTimeProvider time, LogLines logs, RecordingSender sender)
    {
        Directory = directory;
        _ownsDirectory = ownsDirectory;
        Services = services;
        Time = time;
        Logs = logs;
        Sent = sender;
    }

    public static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    public string Directory { get; }

    public ServiceProvider Services { get; }

    public FakeTimeProvider Time { get; }

    public LogLines Logs { get; }

    public RecordingSender Sent { get; }

    /// <summary>Keep the database folder on dispose (another host takes it over).</summary>
    public bool KeepDatabase { get; set; }

    public EthereumLedgerWorker Worker => Services.GetRequiredService<EthereumLedgerWorker>();

    public EthereumVoucherLedger Ledger => Services.GetRequiredService<EthereumVoucherLedger>();

    public OutboxDispatcher Outbox => Services.GetRequiredService<OutboxDispatcher>();

    /// <summary>Starts a host. <paramref name="directory"/> reuses another host's database (a restart).</summary>
    public static async Task<LedgerHost> StartAsync(
        string rpcUrl,
        Action<EthereumLedgerOptions>? configure = null,
        Func<IEthereumRpc, IEthereumRpc>? wrapRpc = null,
        string? directory = null,
        FakeTimeProvider? time = null,
        LogLines? logs = null,
        bool? ownsDirectory = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var owns = ownsDirectory ?? directory is null;
        directory ??= Path.Combine(Path.GetTempPath(), "openmavn-ethereum-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        time ??= new FakeTimeProvider(Start);
        logs ??= new LogLines();
        var sender = new RecordingSender();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        services.AddSingleton<IHostEnvironment>(new TestEnvironment("Development"));
        services.AddSingleton<TimeProvider>(time);
        services.AddOpenMavn(o => o.Jobs.Enabled = false)
            .AddSqliteStorage($"Data Source={Path.Combine(directory, "openmavn.db")}")
            .AddSandboxPayments()
            .AddEthereumLedger(o =>
            {
                o.RpcUrl = rpcUrl;
                o.ChainId = Anvil.ChainId;
                o.OperatorPrivateKey = Anvil.PrivateKeys[0];
                o.Confirmations = 2;
                o.RequestTimeout = TimeSpan.FromSeconds(5);
                configure?.Invoke(o);
            });
        services.AddSingleton<INotificationSender>(sender);
        configureServices?.Invoke(services);
        if (wrapRpc is not null)
        {
            services.Replace(ServiceDescriptor.Singleton<IEthereumRpc>(sp =>
            {
                var o = sp.GetRequiredService<IOptions<EthereumLedgerOptions>>().Value;
                return wrapRpc(new NethereumRpc(new Uri(o.RpcUrl), o.RequestTimeout));
            }));
        }

        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        provider.GetService<IStartupValidator>()?.Validate();
        await provider.MigrateOpenMavnDatabaseAsync();
        return new LedgerHost(directory, owns, provider, time, logs, sender);
    }

    public async Task<T> QueryAsync<T>(Func<OpenMavnDbContext, Task<T>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>());
    }

    public async Task<TResult> RunAsync<TService, TResult>(Func<TService, Task<TResult>> work)
        where TService : notnull
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<TService>());
    }

    public async Task RunAsync<TService>(Func<TService, Task> work)
        where TService : notnull
    {
        await using var scope = Services.CreateAsyncScope();
        await work(scope.ServiceProvider.GetRequiredService<TService>());
    }

    /// <summary>
    /// Delivers the outbox, then runs the worker and mines blocks until no event is queued, sent or applied-not-final
    /// (or the timeout passes). Returns the rounds it ran.
    /// </summary>
    public async Task<List<EthereumWorkerRound>> SettleAsync(string rpcUrl, TimeSpan? timeout = null)
    {
        await Outbox.DrainAsync();
        var rounds = new List<EthereumWorkerRound>();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            rounds.Add(await Worker.RunOnceAsync());
            await Chain.MineAsync(rpcUrl, 2);
            var open = await QueryAsync(db => db.ChainLedgerEvents.CountAsync(e => e.Status != ChainEventStatus.Confirmed && e.Status != ChainEventStatus.Failed));
            var inFlight = await QueryAsync(db => db.ChainLedgerTransactions.CountAsync(t => t.Status != ChainTransactionStatus.Confirmed && t.Status != ChainTransactionStatus.Reverted && t.Status != ChainTransactionStatus.Dropped));
            if (open == 0 && inFlight == 0 && rounds.Count > 1)
            {
                return rounds;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Not settled: {open} event(s) open, {inFlight} transaction(s) in flight. Rounds: {string.Join("; ", rounds.TakeLast(5))}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        if (_ownsDirectory && !KeepDatabase)
        {
            SqliteConnection.ClearAllPools();
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private sealed class TestEnvironment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "OpenMavn.Ledger.Ethereum.Tests";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}

/// <summary>Raw JSON-RPC calls a test makes on anvil (mining, a free port).</summary>
internal static class Chain
{
    private static readonly HttpClient Http = new();

    public static async Task<JsonElement> CallAsync(string rpcUrl, string method, params object[] parameters)
    {
        using var response = await Http.PostAsJsonAsync(rpcUrl, new { jsonrpc = "2.0", id = 1, method, @params = parameters });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(body.TryGetProperty("error", out var error), $"{method} failed: {error}");
        return body.GetProperty("result");
    }

    public static Task MineAsync(string rpcUrl, int blocks = 1) => CallAsync(rpcUrl, "anvil_mine", "0x" + blocks.ToString("x", System.Globalization.CultureInfo.InvariantCulture));

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Every log line, formatted, with exceptions.</summary>
internal sealed class LogLines : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogLines owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}

/// <summary>Records notifications (gift claim links are read from them).</summary>
internal sealed class RecordingSender : INotificationSender
{
    private readonly ConcurrentQueue<NotificationMessage> _sent = new();

    public string Channel => "test";

    public IReadOnlyList<NotificationMessage> Messages => [.. _sent];

    public Task<NotificationOutcome> SendAsync(NotificationMessage message, CancellationToken cancellationToken = default)
    {
        _sent.Enqueue(message);
        return Task.FromResult(NotificationOutcome.Sent);
    }
}
