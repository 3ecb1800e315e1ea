using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Jobs;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Tests;

public sealed class CompositionTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "openmavn-tests", "composition-" + Guid.NewGuid().ToString("N"));

    public CompositionTests() => Directory.CreateDirectory(_directory);

    private string ConnectionString => $"Data Source={Path.Combine(_directory, "openmavn.db")}";

    [Fact]
    public void Calling_AddOpenMavn_twice_registers_nothing_twice()
    {
        var configuration = new ConfigurationBuilder().Build();
        var services = NewServices("Development");
        services.AddOpenMavn(configuration);
        var once = services.Select(d => (d.ServiceType, d.ImplementationType)).ToList();
        services.AddOpenMavn(configuration);
        Assert.Equal(once, services.Select(d => (d.ServiceType, d.ImplementationType)).ToList());

        // The whole chain, twice, as a host whose modules each call it would.
        services.AddOpenMavn(configuration).AddSqliteStorage(ConnectionString).AddSandboxPayments();
        services.AddOpenMavn(o => o.MaxOrderQuantity = 20).AddSqliteStorage(ConnectionString).AddSandboxPayments();

        Assert.Single(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(OpenMavnBackgroundService));
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(DatabaseInitializer));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<OpenMavnOptions>));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<SandboxPaymentOptions>));

        using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        var hosted = provider.GetServices<IHostedService>().Select(h => h.GetType()).ToList();
        Assert.Equal(hosted.Distinct(), hosted);
        Assert.Contains(typeof(OpenMavnBackgroundService), hosted);
        Assert.Contains(typeof(DatabaseInitializer), hosted);
        Assert.Single(provider.GetServices<IVoucherLedger>());
        Assert.Single(provider.GetServices<IPaymentProvider>());
        Assert.Single(provider.GetServices<INotificationSender>());
        using var scope = provider.CreateScope();
        var handlers = scope.ServiceProvider.GetServices<IOutboxHandler>().ToList();
        Assert.Equal(
            new[] { OutboxTypes.LedgerRecord, OutboxTypes.Notification, OutboxTypes.PaymentCancelCheckout, OutboxTypes.PaymentRefund, OutboxTypes.PaymentWebhook },
            handlers.Select(h => h.Type).Order(StringComparer.Ordinal));
        Assert.Equal(20, provider.GetRequiredService<IOptions<OpenMavnOptions>>().Value.MaxOrderQuantity);
    }

    [Fact]
    public async Task A_custom_ledger_replaces_the_database_ledger_with_one_call()
    {
        var memory = new MemoryLedger();
        await using var host = await TestHost.StartAsync(services: s => s.Replace(ServiceDescriptor.Singleton<IVoucherLedger>(memory)));
        Assert.Same(memory, Assert.Single(host.Services.GetServices<IVoucherLedger>()));
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var (_, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id, 2);

        await host.Outbox.DrainAsync();

        Assert.Equal(vouchers.Select(v => v.Id).Order(), memory.Events.Select(e => e.VoucherId).Order());
        Assert.All(memory.Events, e => Assert.Equal(LedgerEventKind.Issued, e.Kind));
        Assert.Equal(0, await host.QueryAsync(db => db.LedgerRecords.CountAsync()));
        var receipts = await host.QueryAsync(db => db.LedgerReceipts.AsNoTracking().ToListAsync());
        Assert.Equal(2, receipts.Count);
        Assert.All(receipts, r => Assert.Equal("memory", r.Ledger));
    }

    [Fact]
    public async Task AddDatabaseLedger_puts_the_database_ledger_back_over_a_custom_one()
    {
        var memory = new MemoryLedger();
        await using var host = await TestHost.StartAsync(services: s =>
        {
            s.Replace(ServiceDescriptor.Singleton<IVoucherLedger>(memory));
            s.AddOpenMavn().AddDatabaseLedger();
        });
        Assert.Same(host.Services.GetRequiredService<DatabaseVoucherLedger>(), Assert.Single(host.Services.GetServices<IVoucherLedger>()));
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id);

        await host.Outbox.DrainAsync();

        Assert.Empty(memory.Events);
        Assert.Equal(1, await host.QueryAsync(db => db.LedgerRecords.CountAsync()));
        Assert.Equal(DatabaseVoucherLedger.LedgerName, (await host.QueryAsync(db => db.LedgerReceipts.SingleAsync())).Ledger);
    }

    [Theory]
    [InlineData("reservation-10s", "ReservationTimeout")]
    [InlineData("reservation-2-days", "ReservationTimeout")]
    [InlineData("negative-platform-basis-points", "Fees:PlatformBasisPoints")]
    [InlineData("negative-payment-basis-points", "Fees:PaymentBasisPoints")]
    [InlineData("negative-platform-fixed", "fixed fees")]
    [InlineData("negative-payment-fixed", "fixed fees")]
    [InlineData("gift-url-without-token", "GiftClaimUrl")]
    [InlineData("relative-success-url", "Checkout:SuccessUrl")]
    [InlineData("root-relative-success-url", "Checkout:SuccessUrl")]
    [InlineData("root-relative-cancel-url", "Checkout:CancelUrl")]
    [InlineData("root-relative-failed-url", "Checkout:FailedUrl")]
    public async Task Invalid_options_fail_when_they_are_resolved_naming_the_setting(string mistake, string setting)
    {
        await using var host = await TestHost.StartAsync(o =>
        {
            switch (mistake)
            {
                case "reservation-10s": o.ReservationTimeout = TimeSpan.FromSeconds(10); break;
                case "reservation-2-days": o.ReservationTimeout = TimeSpan.FromDays(2); break;
                case "negative-platform-basis-points": o.Fees.PlatformBasisPoints = -1; break;
                case "negative-payment-basis-points": o.Fees.PaymentBasisPoints = -250; break;
                case "negative-platform-fixed": o.Fees.PlatformFixed = -1; break;
                case "negative-payment-fixed": o.Fees.PaymentFixed = -30; break;
                case "gift-url-without-token": o.GiftClaimUrl = "https://shop.example.ch/gifts/claim"; break;
                case "relative-success-url": o.Checkout.SuccessUrl = "orders/{orderId}/paid"; break;
                case "root-relative-success-url": o.Checkout.SuccessUrl = "/orders/{orderId}/paid"; break;
                case "root-relative-cancel-url": o.Checkout.CancelUrl = "/orders/{orderId}/cancelled"; break;
                case "root-relative-failed-url": o.Checkout.FailedUrl = "/orders/{orderId}/failed"; break;
                default: throw new ArgumentOutOfRangeException(nameof(mistake));
            }
        });

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<OpenMavnOptions>>().Value);
        var failure = Assert.Single(error.Failures);
        Assert.Contains(setting, failure, StringComparison.Ordinal);

        // ValidateOnStart: the host's start-up check refuses it too.
        Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());
    }

    [Fact]
    public async Task Valid_options_with_absolute_urls_resolve_and_pass_the_start_up_check()
    {
        await using var host = await TestHost.StartAsync(o =>
        {
            o.ReservationTimeout = TimeSpan.FromMinutes(1);
            o.Fees.PlatformBasisPoints = 10_000;
            o.GiftClaimUrl = "https://shop.example.ch/gifts/claim?t={token}";
            o.Checkout.SuccessUrl = "https://shop.example.ch/orders/{orderId}/paid";
            o.Checkout.FailedUrl = "http://localhost:5000/orders/{orderId}/failed";
        });

        Assert.Equal(TimeSpan.FromMinutes(1), host.Services.GetRequiredService<IOptions<OpenMavnOptions>>().Value.ReservationTimeout);
        host.Services.GetRequiredService<IStartupValidator>().Validate();
    }

    [Fact]
    public async Task The_sandbox_provider_is_refused_in_Production()
    {
        await using var host = await TestHost.StartAsync(environment: "Production");

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<SandboxPaymentOptions>>().Value);
        Assert.Contains("Production", Assert.Single(error.Failures), StringComparison.Ordinal);
        Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IStartupValidator>().Validate());
    }

    [Theory]
    [InlineData("/sandbox/checkout/")]
    [InlineData("sandbox/checkout/")]
    public async Task The_sandbox_checkout_base_must_be_an_absolute_url(string checkoutBaseUrl)
    {
        await using var host = await TestHost.StartAsync(services: s => s.AddOpenMavn().AddSandboxPayments(o => o.CheckoutBaseUrl = checkoutBaseUrl));

        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<SandboxPaymentOptions>>().Value);
        Assert.Contains("CheckoutBaseUrl", Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sandbox_provider_runs_in_Production_when_explicitly_allowed()
    {
        await using var host = await TestHost.StartAsync(
            services: s => s.AddOpenMavn().AddSandboxPayments(o => o.AllowInProduction = true),
            environment: "Production");

        Assert.True(host.Services.GetRequiredService<IOptions<SandboxPaymentOptions>>().Value.AllowInProduction);
        host.Services.GetRequiredService<IStartupValidator>().Validate();
        var (owner, merchantId) = await host.CreateApprovedMerchantAsync();
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var (order, vouchers) = await host.BuyAsync(await host.CreateCustomerAsync(), campaign.Id);
        Assert.Equal(Orders.OrderStatus.Paid, order.Status);
        Assert.Single(vouchers);
    }

    [Fact]
    public async Task Configuration_from_a_section_reaches_the_options_the_storage_and_the_sandbox()
    {
        var path = Path.Combine(_directory, "from-config.db");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OpenMavn:ReservationTimeout"] = "00:05:00",
            ["OpenMavn:Fees:PlatformBasisPoints"] = "100",
            ["OpenMavn:Outbox:MaxAttempts"] = "7",
            ["OpenMavn:Checkout:SuccessUrl"] = "https://shop.example.ch/orders/{orderId}",
            ["OpenMavn:Storage:ConnectionString"] = $"Data Source={path}",
            ["OpenMavn:Payments:Sandbox:CheckoutBaseUrl"] = "https://pay.example.ch/sandbox/",
            ["OpenMavn:Payments:Sandbox:AllowInProduction"] = "true",
        }).Build();
        var services = NewServices("Production");

        services.AddOpenMavn(configuration.GetSection("OpenMavn")).AddSqliteStorage().AddSandboxPayments();
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });

        var options = provider.GetRequiredService<IOptions<OpenMavnOptions>>().Value;
        Assert.Equal(TimeSpan.FromMinutes(5), options.ReservationTimeout);
        Assert.Equal(100, options.Fees.PlatformBasisPoints);
        Assert.Equal(0, options.Fees.PaymentBasisPoints);
        Assert.Equal(7, options.Outbox.MaxAttempts);
        Assert.Equal("https://shop.example.ch/orders/{orderId}", options.Checkout.SuccessUrl);
        Assert.Equal(TimeSpan.FromMinutes(15), options.RedemptionReversalWindow); // untouched defaults stay
        var sandbox = provider.GetRequiredService<IOptions<SandboxPaymentOptions>>().Value;
        Assert.Equal("https://pay.example.ch/sandbox/", sandbox.CheckoutBaseUrl);
        Assert.True(sandbox.AllowInProduction);
        provider.GetRequiredService<IStartupValidator>().Validate();

        await provider.MigrateOpenMavnDatabaseAsync();
        Assert.True(File.Exists(path));
        await using var scope = provider.CreateAsyncScope();
        var connection = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>().Database.GetConnectionString();
        Assert.Contains(path, connection, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_value_from_configuration_fails_at_resolve_time()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OpenMavn:ReservationTimeout"] = "00:00:10",
            ["OpenMavn:Fees:PaymentFixed"] = "-1",
        }).Build();
        var services = NewServices("Development");
        services.AddOpenMavn(configuration.GetSection("OpenMavn")).AddSqliteStorage(ConnectionString);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<OpenMavnOptions>>().Value);
        Assert.Equal(2, error.Failures.Count());
        Assert.Contains(error.Failures, f => f.Contains("ReservationTimeout", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("fixed fees", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_storage_registration_replaces_the_first_one_entirely()
    {
        var earlier = new List<string>();
        var services = NewServices("Development");
        var builder = services.AddOpenMavn();
        builder.AddStorage((_, options) => earlier.Add("configured"), StorageKind.SqlServer);

        builder.AddSqliteStorage(ConnectionString);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        await provider.MigrateOpenMavnDatabaseAsync();

        Assert.Empty(earlier);
        Assert.Equal(StorageKind.Sqlite, Assert.Single(provider.GetServices<StorageSettings>()).Kind);
        await using var scope = provider.CreateAsyncScope();
        Assert.True(scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>().Database.IsSqlite());
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

    private static ServiceCollection NewServices(string environment)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IHostEnvironment>(new HostEnvironment(environment));
        return services;
    }

    private sealed class HostEnvironment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "OpenMavn.Core.Tests";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }

    /// <summary>An integrator's own ledger: keeps events in memory, once per event id, in arrival order.</summary>
    private sealed class MemoryLedger : IVoucherLedger
    {
        private readonly List<LedgerEvent> _events = [];

        public string Name => "memory";

        public IReadOnlyList<LedgerEvent> Events
        {
            get
            {
                lock (_events)
                {
                    return _events.ToList();
                }
            }
        }

        public Task<IReadOnlyList<LedgerWriteResult>> RecordAsync(IReadOnlyList<LedgerEvent> events, CancellationToken cancellationToken = default)
        {
            lock (_events)
            {
                var results = new List<LedgerWriteResult>();
                foreach (var e in events)
                {
                    var index = _events.FindIndex(x => x.EventId == e.EventId);
                    if (index < 0)
                    {
                        _events.Add(e);
                        index = _events.Count - 1;
                    }

                    results.Add(new LedgerWriteResult(e.EventId, LedgerReceiptStatus.Confirmed, "mem-" + index, index + 1));
                }

                return Task.FromResult<IReadOnlyList<LedgerWriteResult>>(results);
            }
        }

        public Task<IReadOnlyList<LedgerWriteResult>> GetReceiptsAsync(IReadOnlyList<Guid> eventIds, CancellationToken cancellationToken = default)
        {
            lock (_events)
            {
                return Task.FromResult<IReadOnlyList<LedgerWriteResult>>(eventIds.Select(id => _events.FindIndex(e => e.EventId == id) is var i and >= 0
                    ? new LedgerWriteResult(id, LedgerReceiptStatus.Confirmed, "mem-" + i, i + 1)
                    : new LedgerWriteResult(id, LedgerReceiptStatus.Pending, null, null)).ToList());
            }
        }
    }
}
