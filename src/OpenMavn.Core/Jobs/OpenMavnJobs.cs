using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Exchanges;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Jobs;

/// <summary>What one round of the periodic jobs did.</summary>
/// <param name="ReservationsExpired">Unpaid reservations lapsed.</param>
/// <param name="PaymentsResolved">Orders whose payment state was resolved by polling.</param>
/// <param name="VouchersExpired">Vouchers expired.</param>
/// <param name="GiftsDelivered">Scheduled gifts delivered.</param>
/// <param name="OffersExpired">Exchange offers lapsed.</param>
/// <param name="CampaignsEnded">Fixed-date campaigns ended because their vouchers' validity is over.</param>
/// <param name="RefundsCompleted">Pending refunds the provider has now finished.</param>
/// <param name="RemindersSent">Expiry reminders queued.</param>
/// <param name="SummariesSent">Daily merchant summaries queued.</param>
/// <param name="ReceiptsRefreshed">Pending ledger receipts the ledger has now confirmed, failed or updated.</param>
public sealed record JobRound(int ReservationsExpired, int PaymentsResolved, int VouchersExpired, int GiftsDelivered, int OffersExpired, int CampaignsEnded, int RefundsCompleted, int RemindersSent = 0, int SummariesSent = 0, int ReceiptsRefreshed = 0);

/// <summary>
/// The periodic jobs (reservation expiry, payment polling, voucher expiry, gift delivery, offer expiry, ending
/// lapsed fixed-date campaigns, completing refunds, expiry reminders, daily merchant summaries, refreshing pending
/// ledger receipts). Each step
/// is a guarded update, so any number of host instances may run them against one database.
/// </summary>
public sealed class OpenMavnJobs(IServiceScopeFactory scopes)
{
    /// <summary>
    /// Runs the scheduled ledger reconciliation when its period's run is due (see
    /// <see cref="LedgerReconciliation.RunIfDueAsync"/>); true when one ran. Apart from the other jobs, as it reads
    /// every voucher.
    /// </summary>
    public async Task<bool> ReconcileLedgerIfDueAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<LedgerReconciliation>().RunIfDueAsync(cancellationToken) is not null;
    }

    /// <summary>Runs every job once.</summary>
    public async Task<JobRound> RunOnceAsync(CancellationToken cancellationToken = default)
    {
        var reservations = await InScopeAsync<PurchaseService>(s => s.ExpireReservationsAsync(cancellationToken));
        var payments = await InScopeAsync<PurchaseService>(s => s.PollPendingPaymentsAsync(cancellationToken));
        var vouchers = await InScopeAsync<VoucherService>(s => s.ExpireDueAsync(cancellationToken));
        var gifts = await InScopeAsync<GiftService>(s => s.DeliverDueAsync(cancellationToken));
        var offers = await InScopeAsync<ExchangeService>(s => s.ExpireDueAsync(cancellationToken));
        var campaigns = await InScopeAsync<CampaignService>(s => s.EndLapsedAsync(cancellationToken));
        var refunds = await InScopeAsync<PurchaseService>(s => s.CompletePendingRefundsAsync(cancellationToken));
        var reminders = await InScopeAsync<ExpiryReminders>(s => s.SendDueAsync(cancellationToken));
        var summaries = await InScopeAsync<DailySummaries>(s => s.SendDueAsync(cancellationToken));
        var receipts = await InScopeAsync<LedgerReceiptRefresh>(s => s.RefreshPendingAsync(cancellationToken));
        return new JobRound(reservations, payments, vouchers, gifts, offers, campaigns, refunds, reminders, summaries, receipts);
    }

    private async Task<int> InScopeAsync<T>(Func<T, Task<int>> job)
        where T : notnull
    {
        await using var scope = scopes.CreateAsyncScope();
        return await job(scope.ServiceProvider.GetRequiredService<T>());
    }
}

/// <summary>Runs the outbox dispatcher and the periodic jobs in a host (when <see cref="JobOptions.Enabled"/>).</summary>
internal sealed partial class OpenMavnBackgroundService(
    OpenMavnJobs jobs,
    OutboxDispatcher dispatcher,
    TimeProvider time,
    IOptions<OpenMavnOptions> options,
    ILogger<OpenMavnBackgroundService> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Jobs.Enabled)
        {
            return Task.CompletedTask;
        }

        return Task.WhenAll(
            LoopAsync("outbox", async ct => await dispatcher.DispatchOnceAsync(ct) > 0, options.Value.Outbox.PollInterval, stoppingToken),
            LoopAsync("jobs", async ct =>
            {
                await jobs.RunOnceAsync(ct);
                return false;
            }, options.Value.Jobs.Interval, stoppingToken),
            LoopAsync("ledger-reconciliation", async ct =>
            {
                // Checked every job interval; runs once per reconciliation period across all hosts.
                await jobs.ReconcileLedgerIfDueAsync(ct);
                return false;
            }, options.Value.Jobs.Interval, stoppingToken));
    }

    private async Task LoopAsync(string name, Func<CancellationToken, Task<bool>> step, TimeSpan interval, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var busy = false;
            try
            {
                busy = await step(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A failed round is logged; the loop must survive it (the database may be briefly unavailable).
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogLoopFailed(logger, name, ex);
            }

            if (!busy)
            {
                try
                {
                    await Task.Delay(interval, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Error, Message = "Background {Loop} round failed")]
    private static partial void LogLoopFailed(ILogger logger, string loop, Exception exception);
}
