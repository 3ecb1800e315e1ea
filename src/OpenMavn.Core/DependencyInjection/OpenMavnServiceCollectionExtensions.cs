using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using OpenMavn.Core.Accounts;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Customers;
using OpenMavn.Core.Exchanges;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Jobs;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Security;
using OpenMavn.Core.Vouchers;

namespace OpenMavn;

/// <summary>Composition of OpenMavn: <c>services.AddOpenMavn(configuration.GetSection("OpenMavn")).AddSqliteStorage()…</c>.</summary>
public static class OpenMavnServiceCollectionExtensions
{
    /// <summary>
    /// Adds the OpenMavn core: use cases, options (validated at start-up), the transactional outbox and background
    /// jobs, Data Protection with keys in the database, the built-in database ledger and the logging notification
    /// sender. Add a storage next (<see cref="AddSqliteStorage"/>). Safe to call twice.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The <c>OpenMavn</c> configuration section.</param>
    public static IOpenMavnBuilder AddOpenMavn(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = new OpenMavnBuilder(services, configuration);
        if (services.Any(d => d.ServiceType == typeof(CoreMarker)))
        {
            return builder;
        }

        services.AddSingleton<CoreMarker>();
        services.AddOptions<OpenMavnOptions>().Bind(configuration).PostConfigure(o => BindReminderDays(configuration, o)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OpenMavnOptions>, OpenMavnOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddLogging();

        services.AddDataProtection().SetApplicationName("OpenMavn").PersistKeysToDbContext<OpenMavnDbContext>();
        services.TryAddSingleton<SecretProtector>();

        services.TryAddSingleton<PaymentProviders>();
        services.TryAddScoped<OutboxWriter>();
        services.TryAddScoped<VoucherHistory>();
        services.TryAddScoped<MerchantService>();
        services.TryAddScoped<CustomerService>();
        services.TryAddScoped<IPushDevices, DatabasePushDevices>();
        services.TryAddScoped<CampaignService>();
        services.TryAddScoped<PurchaseService>();
        services.TryAddScoped<RedemptionService>();
        services.TryAddScoped<VoucherService>();
        services.TryAddScoped<GiftService>();
        services.TryAddScoped<ExchangeService>();
        services.TryAddScoped<MerchantAccountService>();
        services.TryAddScoped<ApiKeyService>();
        services.TryAddScoped<PlatformStatistics>();
        services.TryAddScoped<OpenMavn.Core.Audit.AuditLog>();
        services.TryAddScoped<OutboxAdministration>();
        services.TryAddScoped<ExpiryReminders>();
        services.TryAddScoped<DailySummaries>();
        services.TryAddScoped<LedgerReceiptRefresh>();
        services.TryAddScoped<LedgerReconciliation>();
        services.TryAddScoped<LedgerRetries>();
        services.TryAddScoped<LedgerFeeQuotes>();

        services.TryAddSingleton<OutboxDispatcher>();
        services.TryAddSingleton<OpenMavnJobs>();
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IOutboxHandler, LedgerOutboxHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IOutboxHandler, NotificationOutboxHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IOutboxHandler, RefundOutboxHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IOutboxHandler, CancelCheckoutOutboxHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IOutboxHandler, WebhookOutboxHandler>());
        services.AddHostedService<OpenMavnBackgroundService>();

        services.TryAddSingleton<DatabaseVoucherLedger>();
        services.TryAddSingleton<IVoucherLedger>(sp => sp.GetRequiredService<DatabaseVoucherLedger>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<INotificationSender, LoggingNotificationSender>());
        return builder;
    }

    /// <summary>
    /// The binder appends configured list items to a list's default items; a configured reminder list replaces the
    /// default instead, and an empty value (<c>[]</c> in JSON, an empty environment variable) means no reminders.
    /// </summary>
    private static void BindReminderDays(IConfiguration configuration, OpenMavnOptions options)
    {
        var section = configuration.GetSection("Notifications:ExpiryReminderDays");
        if (!section.Exists())
        {
            return;
        }

        // A value that is not a whole number becomes 0, which start-up validation names.
        options.Notifications.ExpiryReminderDays = section.GetChildren()
            .Select(c => int.TryParse(c.Value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var days) ? days : 0)
            .ToList();
    }

    /// <summary>Adds the OpenMavn core configured in code.</summary>
    public static IOpenMavnBuilder AddOpenMavn(this IServiceCollection services, Action<OpenMavnOptions>? configure = null)
    {
        var builder = services.AddOpenMavn(new ConfigurationBuilder().Build());
        if (configure is not null)
        {
            services.Configure(configure);
        }

        return builder;
    }

    /// <summary>
    /// Stores OpenMavn in a SQLite file (the embedded default): WAL journal, migrations applied at start-up.
    /// The connection string comes from the argument, else <c>OpenMavn:Storage:ConnectionString</c>, else
    /// <c>Data Source=openmavn.db</c>.
    /// </summary>
    public static IOpenMavnBuilder AddSqliteStorage(this IOpenMavnBuilder builder, string? connectionString = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configured = connectionString ?? builder.Configuration["Storage:ConnectionString"] ?? "Data Source=openmavn.db";
        var csb = new SqliteConnectionStringBuilder(configured);
        if (!configured.Contains("Default Timeout", StringComparison.OrdinalIgnoreCase) && !configured.Contains("Command Timeout", StringComparison.OrdinalIgnoreCase))
        {
            // Writers queue for the lock (BEGIN IMMEDIATE) for up to this long instead of failing.
            csb.DefaultTimeout = 60;
        }

        var final = csb.ToString();

        // SQLite's busy handler waits for the lock as long as Microsoft.Data.Sqlite would (its Default Timeout), but
        // retries within milliseconds instead of after 150 ms sleeps (see SqliteBusyTimeoutInterceptor).
        var busyTimeout = new SqliteBusyTimeoutInterceptor(checked(csb.DefaultTimeout * 1000));
        return builder.AddStorage(
            (_, options) => options
                .UseSqlite(final, sqlite => sqlite.MigrationsAssembly(typeof(OpenMavnDbContext).Assembly.GetName().Name))
                .AddInterceptors(busyTimeout),
            StorageKind.Sqlite);
    }

    /// <summary>
    /// Registers the OpenMavn database with any EF Core provider; used by the storage packages
    /// (<c>AddSqlServerStorage</c>, <c>AddPostgreSqlStorage</c>). Replaces an earlier storage registration.
    /// </summary>
    public static IOpenMavnBuilder AddStorage(this IOpenMavnBuilder builder, Action<IServiceProvider, DbContextOptionsBuilder> configure, StorageKind kind)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.RemoveAll<DbContextOptions<OpenMavnDbContext>>();

        // AddDbContext adds its configure action as an IDbContextOptionsConfiguration and runs every one registered:
        // left in place, the replaced storage's action would still run (UseSqlite and then UseSqlServer → two providers).
        builder.Services.RemoveAll<IDbContextOptionsConfiguration<OpenMavnDbContext>>();
        builder.Services.RemoveAll<StorageSettings>();
        builder.Services.AddDbContext<OpenMavnDbContext>(configure);
        var migrate = !bool.TryParse(builder.Configuration["Storage:MigrateOnStartup"], out var m) || m;
        builder.Services.AddSingleton(new StorageSettings(kind, migrate));
        if (!builder.Services.Any(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(DatabaseInitializer)))
        {
            // First of the hosted services (they start in registration order): the outbox dispatcher, the jobs and
            // Data Protection's key ring, registered earlier by AddOpenMavn, must not query an unmigrated database.
            builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService, DatabaseInitializer>());
        }

        return builder;
    }

    /// <summary>Adds the built-in sandbox payment provider (development and demos; refused in Production unless allowed).</summary>
    public static IOpenMavnBuilder AddSandboxPayments(this IOpenMavnBuilder builder, Action<SandboxPaymentOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<SandboxPaymentOptions>().Bind(builder.Configuration.GetSection("Payments:Sandbox")).ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SandboxPaymentOptions>, SandboxPaymentOptionsValidator>());
        builder.Services.TryAddSingleton<SandboxPaymentProvider>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IPaymentProvider, SandboxPaymentProvider>(sp => sp.GetRequiredService<SandboxPaymentProvider>()));
        return builder;
    }

    /// <summary>Uses the built-in hash-chained database ledger (the default), replacing any other ledger.</summary>
    public static IOpenMavnBuilder AddDatabaseLedger(this IOpenMavnBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton<IVoucherLedger>(sp => sp.GetRequiredService<DatabaseVoucherLedger>()));
        return builder;
    }

    /// <summary>
    /// Creates or upgrades the OpenMavn database to the current schema (what start-up does unless
    /// <c>OpenMavn:Storage:MigrateOnStartup</c> is false).
    /// </summary>
    public static async Task MigrateOpenMavnDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        await db.Database.MigrateAsync(cancellationToken);
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
    }

    private sealed class CoreMarker;
}

/// <summary>Which kind of database stores OpenMavn.</summary>
public enum StorageKind
{
    /// <summary>An embedded SQLite file.</summary>
    Sqlite = 0,

    /// <summary>Microsoft SQL Server or Azure SQL.</summary>
    SqlServer = 1,

    /// <summary>PostgreSQL.</summary>
    PostgreSql = 2,
}

internal sealed record StorageSettings(StorageKind Kind, bool MigrateOnStartup);

internal sealed class DatabaseInitializer(IServiceProvider services, StorageSettings settings) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        settings.MigrateOnStartup ? services.MigrateOpenMavnDatabaseAsync(cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
