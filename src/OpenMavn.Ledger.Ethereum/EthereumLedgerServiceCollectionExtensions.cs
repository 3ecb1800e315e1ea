using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using OpenMavn.Core.Ledger;
using OpenMavn.Ledger.Ethereum;

namespace OpenMavn;

/// <summary>Registers the Ethereum ledger.</summary>
public static class EthereumLedgerServiceCollectionExtensions
{
    /// <summary>
    /// Mirrors voucher events on an EVM chain (<c>ethereum</c>), replacing the database ledger. Configured from
    /// <c>OpenMavn:Ledger:Ethereum</c> and then <paramref name="configure"/>; options are validated at start-up. The
    /// sender runs in the background when OpenMavn's jobs are enabled (<c>OpenMavn:Jobs:Enabled</c>), and a health
    /// check <c>ledger-ethereum</c> (tag <c>ready</c>) reports degraded while the chain lags. Safe to call twice.
    /// </summary>
    /// <param name="builder">The OpenMavn builder.</param>
    /// <param name="configure">Optional changes in code.</param>
    public static IOpenMavnBuilder AddEthereumLedger(this IOpenMavnBuilder builder, Action<EthereumLedgerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<EthereumLedgerOptions>();
        if (!services.Any(d => d.ServiceType == typeof(EthereumMarker)))
        {
            services.AddSingleton<EthereumMarker>();
            options.Bind(builder.Configuration.GetSection(EthereumLedgerOptions.SectionName)).ValidateOnStart();
            services.AddHostedService<EthereumLedgerBackgroundService>();
            services.Configure<HealthCheckServiceOptions>(o => o.Registrations.Add(new HealthCheckRegistration(
                "ledger-ethereum",
                sp => ActivatorUtilities.CreateInstance<EthereumLedgerHealthCheck>(sp),
                HealthStatus.Degraded,
                ["ready"])));
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddLogging();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EthereumLedgerOptions>, EthereumLedgerOptionsValidator>());
        services.TryAddSingleton<IEthereumRpc>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<EthereumLedgerOptions>>().Value;
            return new NethereumRpc(new Uri(o.RpcUrl), o.RequestTimeout);
        });
        services.TryAddSingleton<OperatorSigner>();
        services.TryAddSingleton<EthereumLedgerHealth>();
        services.TryAddSingleton(sp => new LedgerContractLocator(
            sp.GetRequiredService<IServiceScopeFactory>(),
            sp.GetRequiredService<IEthereumRpc>(),
            sp.GetRequiredService<IOptions<EthereumLedgerOptions>>(),
            sp.GetRequiredService<OperatorSigner>()));
        services.TryAddSingleton(sp => new EthereumLedgerWorker(
            sp.GetRequiredService<IServiceScopeFactory>(),
            sp.GetRequiredService<IEthereumRpc>(),
            sp.GetRequiredService<OperatorSigner>(),
            sp.GetRequiredService<LedgerContractLocator>(),
            sp.GetRequiredService<IOptions<EthereumLedgerOptions>>(),
            sp.GetService<IHostEnvironment>(),
            sp.GetRequiredService<EthereumLedgerHealth>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<EthereumLedgerWorker>>()));
        services.TryAddSingleton<EthereumVoucherLedger>();
        services.Replace(ServiceDescriptor.Singleton<IVoucherLedger>(sp => sp.GetRequiredService<EthereumVoucherLedger>()));
        return builder;
    }

    private sealed class EthereumMarker;
}

/// <summary>Runs <see cref="EthereumLedgerWorker"/> rounds in a host while OpenMavn's jobs are enabled.</summary>
internal sealed partial class EthereumLedgerBackgroundService(
    EthereumLedgerWorker worker,
    IOptions<OpenMavnOptions> core,
    IOptions<EthereumLedgerOptions> options,
    TimeProvider time,
    ILogger<EthereumLedgerBackgroundService> logger) : BackgroundService
{
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (core.Value.Jobs.Enabled)
        {
            try
            {
                await worker.ReleaseLeaseAsync(cancellationToken);
            }
#pragma warning disable CA1031 // Shutting down: the lease lapses on its own if it cannot be released.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogRoundFailed(logger, ex);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!core.Value.Jobs.Enabled)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var busy = false;
            try
            {
                var round = await worker.RunOnceAsync(stoppingToken);
                busy = round.Sent > 0;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A failed round is logged; the loop must survive it (the database may be briefly unavailable).
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogRoundFailed(logger, ex);
            }

            try
            {
                await Task.Delay(busy ? TimeSpan.FromMilliseconds(50) : options.Value.PollInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(EventId = 9100, Level = LogLevel.Error, Message = "Ethereum ledger round failed")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
