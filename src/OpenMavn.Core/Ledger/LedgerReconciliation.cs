using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Ledger;

/// <summary>
/// Compares the database with the ledger for every voucher and campaign and stores what differs as a
/// <see cref="LedgerReconciliationReport"/>. Run by the background service once per
/// <see cref="LedgerOptions.ReconciliationInterval"/> and by operators on demand.
/// </summary>
/// <remarks>
/// <para>
/// Per voucher (paged by id, <see cref="DefaultPageSize"/> at a time, so memory stays flat however many there are) the
/// database's holder (<see cref="IVoucherLedgerReader.HolderOf"/> of the owner), balance, status and number of ledger
/// events are compared with what <see cref="IVoucherLedgerReader.ReadVouchersAsync"/> answers. The expected number of
/// events is the number of the voucher's activities of the kinds that are mirrored (issued, transferred, exchanged,
/// redeemed, redemption reversed, expired, refunded), not its receipts: a receipt is written only once the ledger was
/// reached, so counting receipts would make an event that never got there look complete.
/// </para>
/// <para>
/// A voucher with an event not final yet — a pending receipt, or an activity whose receipt is not written yet — is
/// in flight and counted, not compared; once it has waited longer than <see cref="LedgerOptions.StuckAfter"/> it is a
/// <see cref="LedgerDifferenceKind.Stuck"/> difference. A Failed receipt is a
/// <see cref="LedgerDifferenceKind.WriteFailed"/> difference (the other fields then differ as a consequence and are not
/// listed). A cancelled voucher's status is not compared: a cancellation is not a ledger event, so the ledger keeps the
/// status it had before.
/// </para>
/// <para>
/// Per campaign the ledger's issued and outstanding counts are compared with the database's (vouchers issued; those
/// not refunded), which is what finds vouchers on the ledger that the database does not know. Campaigns with a voucher
/// in flight, stuck or failed are left out of that comparison (their counts are expected to differ until it settles).
/// </para>
/// <para>
/// One reconciliation runs at a time across every host sharing the database (a unique run lock on the report row);
/// a scheduled run claims its period (a unique slot), so hosts that share the database run it once per interval. A
/// ledger that cannot be read (unreachable, or not an <see cref="IVoucherLedgerReader"/>) gives a report with an
/// error, never an exception into the job loop.
/// </para>
/// </remarks>
public sealed partial class LedgerReconciliation(
    OpenMavnDbContext db,
    IVoucherLedger ledger,
    TimeProvider time,
    IOptions<OpenMavnOptions> options,
    ILogger<LedgerReconciliation> logger)
{
    /// <summary>Vouchers (and campaigns) compared per page.</summary>
    public const int DefaultPageSize = 500;

    /// <summary>A running report without a heartbeat for this long was left behind by a host that stopped.</summary>
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(15);

    private static readonly VoucherActivityKind[] MirroredKinds =
    [
        VoucherActivityKind.Issued, VoucherActivityKind.Transferred, VoucherActivityKind.Exchanged, VoucherActivityKind.Redeemed,
        VoucherActivityKind.RedemptionReversed, VoucherActivityKind.Expired, VoucherActivityKind.Refunded,
    ];

    /// <summary>Vouchers (and campaigns) compared per page (tests make it small to page through few vouchers).</summary>
    internal int PageSize { get; set; } = DefaultPageSize;

    /// <summary>Runs a reconciliation now (operators). Throws a conflict when one is already running.</summary>
    public async Task<LedgerReconciliationReport> RunAsync(Actor actor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        MerchantAccess.RequireAdmin(actor);
        var report = await ClaimAsync("manual", null, cancellationToken)
            ?? throw new ConflictException("ledger.reconciliation_running", "A reconciliation is running already; its report will be in the list when it ends.");
        return await CompleteAsync(report, cancellationToken);
    }

    /// <summary>
    /// Runs the scheduled reconciliation when this period's has not run yet and no other is running; returns its report,
    /// or null when there was nothing to do.
    /// </summary>
    public async Task<LedgerReconciliationReport?> RunIfDueAsync(CancellationToken cancellationToken = default)
    {
        var slot = SlotOf(time.GetUtcNow(), options.Value.Ledger.ReconciliationInterval);
        if (await db.LedgerReconciliationReports.AsNoTracking().AnyAsync(r => r.Slot == slot, cancellationToken))
        {
            return null;
        }

        var report = await ClaimAsync("scheduled", slot, cancellationToken);
        return report is null ? null : await CompleteAsync(report, cancellationToken);
    }

    /// <summary>Reports, latest first, without their differences (operators; <see cref="GetAsync"/> has them).</summary>
    public async Task<IReadOnlyList<LedgerReconciliationReport>> ListAsync(Actor actor, int skip = 0, int take = 100, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        MerchantAccess.RequireAdmin(actor);
        return await db.LedgerReconciliationReports.AsNoTracking()
            .OrderByDescending(r => r.StartedAt).ThenByDescending(r => r.Id)
            .Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 1000))
            .Select(r => new LedgerReconciliationReport
            {
                Id = r.Id,
                Ledger = r.Ledger,
                Trigger = r.Trigger,
                Slot = r.Slot,
                RunLock = r.RunLock,
                StartedAt = r.StartedAt,
                HeartbeatAt = r.HeartbeatAt,
                FinishedAt = r.FinishedAt,
                VouchersChecked = r.VouchersChecked,
                CampaignsChecked = r.CampaignsChecked,
                InFlight = r.InFlight,
                DifferenceCount = r.DifferenceCount,
                Error = r.Error,
            })
            .ToListAsync(cancellationToken);
    }

    /// <summary>One report (operators).</summary>
    public async Task<LedgerReconciliationReport> GetAsync(Actor actor, Guid reportId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        MerchantAccess.RequireAdmin(actor);
        return await db.LedgerReconciliationReports.AsNoTracking().FirstOrDefaultAsync(r => r.Id == reportId, cancellationToken)
            ?? throw new NotFoundException("ledger.reconciliation_not_found", "No such reconciliation report.");
    }

    /// <summary>The scheduled period an instant falls in, as its start (periods counted from 0001-01-01 UTC).</summary>
    internal static string SlotOf(DateTimeOffset now, TimeSpan interval)
    {
        var start = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % interval.Ticks), TimeSpan.Zero);
        return "scheduled:" + start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    }

    private async Task<LedgerReconciliationReport?> ClaimAsync(string trigger, string? slot, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var abandoned = now - AbandonedAfter;
        await db.LedgerReconciliationReports.Where(r => r.RunLock != null && r.HeartbeatAt < abandoned)
            .ExecuteUpdateAsync(
                s => s.SetProperty(r => r.RunLock, (string?)null).SetProperty(r => r.FinishedAt, now)
                    .SetProperty(r => r.Error, "Abandoned: the host running it stopped before it finished."),
                cancellationToken);

        for (var attempt = 1; ; attempt++)
        {
            var report = new LedgerReconciliationReport
            {
                Id = Guid.CreateVersion7(now),
                Ledger = ledger.Name,
                Trigger = trigger,
                Slot = slot,
                RunLock = LedgerReconciliationReport.Running,
                StartedAt = now,
                HeartbeatAt = now,
            };
            try
            {
                await db.InTransactionAsync(
                    _ =>
                    {
                        db.LedgerReconciliationReports.Add(report);
                        return Task.CompletedTask;
                    },
                    cancellationToken);
                db.ChangeTracker.Clear();
                return report;
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                db.ChangeTracker.Clear();
                // Another run holds the lock, or another host claimed this period first. When neither is true any
                // more (the other run finished between our insert and this check), claim again.
                if (await db.LedgerReconciliationReports.AsNoTracking().AnyAsync(r => r.RunLock != null || (slot != null && r.Slot == slot), cancellationToken))
                {
                    return null;
                }
            }
        }
    }

    private async Task<LedgerReconciliationReport> CompleteAsync(LedgerReconciliationReport report, CancellationToken cancellationToken)
    {
        var tally = new Tally();
        string? error = null;
        try
        {
            if (ledger is IVoucherLedgerReader reader)
            {
                await CompareVouchersAsync(reader, report.Id, tally, cancellationToken);
                await CompareCampaignsAsync(reader, tally, cancellationToken);
            }
            else
            {
                error = $"The ledger '{ledger.Name}' cannot be read back: it does not implement IVoucherLedgerReader, so there is nothing to compare with.";
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            error = "Stopped before it finished (the host shut down or the request was aborted).";
        }
#pragma warning disable CA1031 // An unreachable ledger is the report's finding, not a failure of the job loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            error = $"The comparison could not be completed: {ex.Message}";
            LogFailed(logger, ledger.Name, ex);
        }

        if (error is { Length: > 2000 })
        {
            error = error[..2000];
        }

        var finished = time.GetUtcNow();
        var json = JsonSerializer.Serialize(tally.Differences, LedgerReconciliationReport.Json);
        // Not cancelled with the run: the lock must be released and the findings kept whatever stopped it.
        await db.LedgerReconciliationReports.Where(r => r.Id == report.Id).ExecuteUpdateAsync(
            s => s.SetProperty(r => r.RunLock, (string?)null)
                .SetProperty(r => r.FinishedAt, finished)
                .SetProperty(r => r.HeartbeatAt, finished)
                .SetProperty(r => r.VouchersChecked, tally.VouchersChecked)
                .SetProperty(r => r.CampaignsChecked, tally.CampaignsChecked)
                .SetProperty(r => r.InFlight, tally.InFlight)
                .SetProperty(r => r.DifferenceCount, tally.DifferenceCount)
                .SetProperty(r => r.DifferencesJson, json)
                .SetProperty(r => r.Error, error),
            CancellationToken.None);
        LogFinished(logger, ledger.Name, tally.VouchersChecked, tally.InFlight, tally.DifferenceCount, error ?? "none");
        return await db.LedgerReconciliationReports.AsNoTracking().FirstAsync(r => r.Id == report.Id, CancellationToken.None);
    }

    private async Task CompareVouchersAsync(IVoucherLedgerReader reader, Guid reportId, Tally tally, CancellationToken cancellationToken)
    {
        var stuckBefore = time.GetUtcNow() - options.Value.Ledger.StuckAfter;
        Guid? after = null;
        while (true)
        {
            var query = db.Vouchers.AsNoTracking();
            if (after is { } last)
            {
                query = query.Where(v => v.Id > last);
            }

            var page = await query.OrderBy(v => v.Id).Take(PageSize)
                .Select(v => new { v.Id, v.CampaignId, v.OwnerId, v.Balance, v.Status })
                .ToListAsync(cancellationToken);
            if (page.Count == 0)
            {
                return;
            }

            after = page[^1].Id;
            var ids = page.Select(v => v.Id).ToList();
            var receipts = (await db.LedgerReceipts.AsNoTracking().Where(r => ids.Contains(r.VoucherId))
                    .Select(r => new { r.VoucherId, r.Status, r.UpdatedAt }).ToListAsync(cancellationToken))
                .ToLookup(r => r.VoucherId);
            var activities = (await db.VoucherActivities.AsNoTracking().Where(a => ids.Contains(a.VoucherId) && MirroredKinds.Contains(a.Kind))
                    .Select(a => new { a.VoucherId, a.At }).ToListAsync(cancellationToken))
                .ToLookup(a => a.VoucherId);
            var states = (await reader.ReadVouchersAsync(page.Select(v => new LedgerVoucherRef(v.Id, v.CampaignId)).ToList(), cancellationToken))
                .GroupBy(s => s.VoucherId).ToDictionary(g => g.Key, g => g.First());

            foreach (var v in page)
            {
                tally.VouchersChecked++;
                var voucherReceipts = receipts[v.Id].ToList();
                var events = activities[v.Id].ToList();
                var failed = voucherReceipts.Count(r => r.Status == LedgerReceiptStatus.Failed);
                if (failed > 0)
                {
                    tally.Unsettled(v.CampaignId);
                    tally.Add(new LedgerDifference(LedgerDifferenceKind.WriteFailed, v.Id, v.CampaignId, "every event confirmed", $"{failed} event(s) rejected by the ledger"));
                    continue;
                }

                // Waiting: a receipt still pending, or an event whose receipt is not written yet (the outbox has not
                // reached the ledger). Events of one voucher go out in order, so the missing ones are the latest.
                var waitingSince = voucherReceipts.Where(r => r.Status == LedgerReceiptStatus.Pending).Select(r => (DateTimeOffset?)r.UpdatedAt).Min();
                if (voucherReceipts.Count < events.Count)
                {
                    var latest = events.Max(a => a.At);
                    waitingSince = waitingSince is { } pending && pending < latest ? pending : latest;
                }

                if (waitingSince is { } since)
                {
                    tally.Unsettled(v.CampaignId);
                    if (since < stuckBefore)
                    {
                        tally.Add(new LedgerDifference(LedgerDifferenceKind.Stuck, v.Id, v.CampaignId, $"final within {options.Value.Ledger.StuckAfter}", $"waiting since {Instant(since)}"));
                    }
                    else
                    {
                        tally.InFlight++;
                    }

                    continue;
                }

                if (!states.TryGetValue(v.Id, out var state) || !state.Found)
                {
                    tally.Add(new LedgerDifference(LedgerDifferenceKind.MissingOnLedger, v.Id, v.CampaignId, $"{events.Count} event(s)", "unknown to the ledger"));
                    continue;
                }

                var holder = reader.HolderOf(v.OwnerId);
                if (!string.Equals(holder, state.Holder, StringComparison.Ordinal))
                {
                    tally.Add(new LedgerDifference(LedgerDifferenceKind.HolderDiffers, v.Id, v.CampaignId, holder, state.Holder ?? "(none)"));
                }

                if (v.Balance != state.Balance)
                {
                    tally.Add(new LedgerDifference(LedgerDifferenceKind.BalanceDiffers, v.Id, v.CampaignId, Number(v.Balance), Number(state.Balance)));
                }

                if (ExpectedStatus(v.Status) is { } status && status != state.Status)
                {
                    tally.Add(new LedgerDifference(LedgerDifferenceKind.StatusDiffers, v.Id, v.CampaignId, status.ToString(), state.Status.ToString()));
                }

                if (events.Count != state.EventsApplied)
                {
                    tally.Add(new LedgerDifference(LedgerDifferenceKind.EventCountDiffers, v.Id, v.CampaignId, Number(events.Count), Number(state.EventsApplied)));
                }
            }

            await db.LedgerReconciliationReports.Where(r => r.Id == reportId).ExecuteUpdateAsync(
                s => s.SetProperty(r => r.HeartbeatAt, time.GetUtcNow()).SetProperty(r => r.VouchersChecked, tally.VouchersChecked),
                cancellationToken);
        }
    }

    private async Task CompareCampaignsAsync(IVoucherLedgerReader reader, Tally tally, CancellationToken cancellationToken)
    {
        Guid? after = null;
        while (true)
        {
            var query = db.Campaigns.AsNoTracking();
            if (after is { } last)
            {
                query = query.Where(c => c.Id > last);
            }

            var ids = await query.OrderBy(c => c.Id).Take(PageSize).Select(c => c.Id).ToListAsync(cancellationToken);
            if (ids.Count == 0)
            {
                return;
            }

            after = ids[^1];
            var counts = await db.Vouchers.AsNoTracking().Where(v => ids.Contains(v.CampaignId))
                .GroupBy(v => v.CampaignId)
                .Select(g => new { CampaignId = g.Key, Issued = g.Count(), Outstanding = g.Count(v => v.Status != VoucherStatus.Refunded) })
                .ToDictionaryAsync(c => c.CampaignId, cancellationToken);
            var states = (await reader.ReadCampaignsAsync(ids, cancellationToken))
                .GroupBy(s => s.CampaignId).ToDictionary(g => g.Key, g => g.First());
            foreach (var id in ids)
            {
                if (tally.IsUnsettled(id))
                {
                    continue;
                }

                tally.CampaignsChecked++;
                var (issued, outstanding) = counts.TryGetValue(id, out var c) ? ((long)c.Issued, (long)c.Outstanding) : (0L, 0L);
                var (ledgerIssued, ledgerOutstanding) = states.TryGetValue(id, out var s) && s.Found ? (s.Issued, s.Outstanding) : (0L, 0L);
                if (issued != ledgerIssued || outstanding != ledgerOutstanding)
                {
                    tally.Add(new LedgerDifference(
                        LedgerDifferenceKind.CampaignCountDiffers,
                        null,
                        id,
                        $"issued {Number(issued)}, outstanding {Number(outstanding)}",
                        $"issued {Number(ledgerIssued)}, outstanding {Number(ledgerOutstanding)}"));
                }
            }
        }
    }

    /// <summary>The status the ledger should show; null for a cancelled voucher (a cancellation is not a ledger event).</summary>
    internal static LedgerVoucherStatus? ExpectedStatus(VoucherStatus status) => status switch
    {
        VoucherStatus.Active => LedgerVoucherStatus.Active,
        VoucherStatus.Redeemed => LedgerVoucherStatus.Redeemed,
        VoucherStatus.Expired => LedgerVoucherStatus.Expired,
        VoucherStatus.Refunded => LedgerVoucherStatus.Refunded,
        _ => null,
    };

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Instant(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "Reconciliation with ledger {Ledger} could not be completed")]
    private static partial void LogFailed(ILogger logger, string ledger, Exception exception);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Information, Message = "Reconciliation with ledger {Ledger}: {Vouchers} vouchers checked, {InFlight} in flight, {Differences} differences, error: {Error}")]
    private static partial void LogFinished(ILogger logger, string ledger, long vouchers, long inFlight, long differences, string error);

    private sealed class Tally
    {
        private readonly HashSet<Guid> _unsettledCampaigns = [];

        public List<LedgerDifference> Differences { get; } = [];

        public long VouchersChecked { get; set; }

        public long CampaignsChecked { get; set; }

        public long InFlight { get; set; }

        public long DifferenceCount { get; private set; }

        public void Add(LedgerDifference difference)
        {
            DifferenceCount++;
            if (Differences.Count < LedgerReconciliationReport.MaxDifferences)
            {
                Differences.Add(difference);
            }
        }

        public void Unsettled(Guid campaignId) => _unsettledCampaigns.Add(campaignId);

        public bool IsUnsettled(Guid campaignId) => _unsettledCampaigns.Contains(campaignId);
    }
}
