using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenMavn.Core.Exchanges;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Vouchers;
using static OpenMavn.Core.Tests.AfterPurchaseKit;

namespace OpenMavn.Core.Tests;

public sealed class LedgerReconciliationTests
{
    private static readonly Actor Operator = Actor.Admin(Guid.NewGuid());

    [Fact]
    public async Task A_real_lifecycle_on_the_database_ledger_reconciles_without_differences()
    {
        await using var host = await TestHost.StartAsync();
        var life = await LifecycleAsync(host);

        await host.Outbox.DrainAsync();
        var report = await RunAsync(host);

        Assert.Null(report.Error);
        Assert.NotNull(report.FinishedAt);
        Assert.Equal(DatabaseVoucherLedger.LedgerName, report.Ledger);
        Assert.Equal(life.Vouchers, report.VouchersChecked);
        Assert.Equal(0, report.InFlight);
        Assert.Equal(2, report.CampaignsChecked);
        Assert.Equal(0, report.DifferenceCount);
        Assert.Empty(report.Differences());

        // The lifecycle really produced every kind of state the comparison looks at.
        var statuses = await host.QueryAsync(db => db.Vouchers.AsNoTracking().Select(v => v.Status).ToListAsync());
        Assert.Contains(VoucherStatus.Expired, statuses);
        Assert.Contains(VoucherStatus.Refunded, statuses);
        Assert.Contains(VoucherStatus.Active, statuses);
        var kinds = await host.QueryAsync(db => db.VoucherActivities.AsNoTracking().Select(a => a.Kind).Distinct().ToListAsync());
        Assert.Superset(new HashSet<VoucherActivityKind> { VoucherActivityKind.Issued, VoucherActivityKind.Transferred, VoucherActivityKind.Exchanged, VoucherActivityKind.Redeemed, VoucherActivityKind.Expired, VoucherActivityKind.Refunded }, kinds.ToHashSet());
    }

    [Fact]
    public async Task Paging_through_vouchers_and_campaigns_a_few_at_a_time_checks_each_once()
    {
        var lying = new TestLedger();
        await using var host = await StartAsync(lying);
        var life = await LifecycleAsync(host);
        await LifecycleAsync(host);
        await host.Outbox.DrainAsync();
        var seen = new List<Guid>();
        lying.Voucher = s =>
        {
            lock (seen)
            {
                seen.Add(s.VoucherId);
            }

            return s.VoucherId == life.PartlyRedeemed ? s with { Balance = 1 } : s;
        };

        var report = await host.RunAsync<LedgerReconciliation, LedgerReconciliationReport>(r =>
        {
            r.PageSize = 2;
            return r.RunAsync(Operator);
        });

        Assert.Equal(12, report.VouchersChecked);
        Assert.Equal(4, report.CampaignsChecked);
        Assert.Equal(12, seen.Distinct().Count());
        Assert.Equal(12, seen.Count);
        Assert.Equal(life.PartlyRedeemed, Assert.Single(report.Differences()).VoucherId);
    }

    [Theory]
    [InlineData(LedgerDifferenceKind.MissingOnLedger)]
    [InlineData(LedgerDifferenceKind.HolderDiffers)]
    [InlineData(LedgerDifferenceKind.BalanceDiffers)]
    [InlineData(LedgerDifferenceKind.StatusDiffers)]
    [InlineData(LedgerDifferenceKind.EventCountDiffers)]
    public async Task A_ledger_that_disagrees_about_one_voucher_gives_exactly_that_difference(LedgerDifferenceKind kind)
    {
        var lying = new TestLedger();
        await using var host = await StartAsync(lying);
        var life = await LifecycleAsync(host);
        await host.Outbox.DrainAsync();
        var target = life.PartlyRedeemed;
        lying.Voucher = s => s.VoucherId != target ? s : kind switch
        {
            LedgerDifferenceKind.MissingOnLedger => s with { Found = false, Holder = null, Balance = 0, Status = LedgerVoucherStatus.Unknown, EventsApplied = 0 },
            LedgerDifferenceKind.HolderDiffers => s with { Holder = Guid.NewGuid().ToString("N") },
            LedgerDifferenceKind.BalanceDiffers => s with { Balance = s.Balance + 1 },
            LedgerDifferenceKind.StatusDiffers => s with { Status = LedgerVoucherStatus.Redeemed },
            LedgerDifferenceKind.EventCountDiffers => s with { EventsApplied = s.EventsApplied - 1 },
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        var report = await RunAsync(host);

        Assert.Null(report.Error);
        Assert.Equal(1, report.DifferenceCount);
        var difference = Assert.Single(report.Differences());
        Assert.Equal(kind, difference.Kind);
        Assert.Equal(target, difference.VoucherId);
        Assert.Equal(life.StoredValueCampaign, difference.CampaignId);
        Assert.Equal(life.Vouchers, report.VouchersChecked);
    }

    [Fact]
    public async Task A_campaign_count_the_ledger_disagrees_with_is_a_campaign_difference()
    {
        var lying = new TestLedger();
        await using var host = await StartAsync(lying);
        var life = await LifecycleAsync(host);
        await host.Outbox.DrainAsync();
        // The ledger knows one voucher of the campaign more than the database (issued on the ledger only).
        lying.Campaign = c => c.CampaignId == life.StoredValueCampaign ? c with { Issued = c.Issued + 1, Outstanding = c.Outstanding + 1 } : c;

        var report = await RunAsync(host);

        var difference = Assert.Single(report.Differences());
        Assert.Equal(LedgerDifferenceKind.CampaignCountDiffers, difference.Kind);
        Assert.Null(difference.VoucherId);
        Assert.Equal(life.StoredValueCampaign, difference.CampaignId);
        Assert.Equal("issued 4, outstanding 3", difference.Expected);
        Assert.Equal("issued 5, outstanding 4", difference.Actual);
    }

    [Fact]
    public async Task A_failed_write_is_reported_once_and_its_campaign_is_left_out_of_the_count_comparison()
    {
        await using var host = await StartAsync(null);
        var life = await LifecycleAsync(host);
        await host.Outbox.DrainAsync();
        await host.QueryAsync(db => db.LedgerReceipts.Where(r => r.VoucherId == life.PartlyRedeemed && r.Kind == LedgerEventKind.Redeemed)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, LedgerReceiptStatus.Failed)));

        var report = await RunAsync(host);

        var difference = Assert.Single(report.Differences());
        Assert.Equal(LedgerDifferenceKind.WriteFailed, difference.Kind);
        Assert.Equal(life.PartlyRedeemed, difference.VoucherId);
        Assert.Equal(1, report.CampaignsChecked);
    }

    [Fact]
    public async Task A_pending_event_is_in_flight_until_it_waits_longer_than_StuckAfter()
    {
        await using var host = await StartAsync(null, o => o.Ledger.StuckAfter = TimeSpan.FromMinutes(30));
        var life = await LifecycleAsync(host);
        await host.Outbox.DrainAsync();
        await host.QueryAsync(db => db.LedgerReceipts.Where(r => r.VoucherId == life.PartlyRedeemed && r.Kind == LedgerEventKind.Redeemed)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, LedgerReceiptStatus.Pending)));

        var young = await RunAsync(host);
        Assert.Equal(1, young.InFlight);
        Assert.Equal(0, young.DifferenceCount);
        Assert.Equal(1, young.CampaignsChecked);

        host.Time.Advance(TimeSpan.FromMinutes(31));
        var old = await RunAsync(host);
        Assert.Equal(0, old.InFlight);
        var difference = Assert.Single(old.Differences());
        Assert.Equal(LedgerDifferenceKind.Stuck, difference.Kind);
        Assert.Equal(life.PartlyRedeemed, difference.VoucherId);
    }

    [Fact]
    public async Task An_event_the_outbox_has_not_delivered_is_in_flight_then_stuck()
    {
        await using var host = await StartAsync(null, o => o.Ledger.StuckAfter = TimeSpan.FromMinutes(30));
        var life = await LifecycleAsync(host);
        await host.Outbox.DrainAsync();
        var shop = new Shop(life.Owner, life.MerchantId, life.Staff, null!);
        var code = (await host.VoucherAsync(life.PartlyRedeemed)).DisplayCode;
        await RedeemAsync(host, shop, code, 100);

        var young = await RunAsync(host);
        Assert.Equal(1, young.InFlight);
        Assert.Equal(0, young.DifferenceCount);

        host.Time.Advance(TimeSpan.FromMinutes(31));
        var old = await RunAsync(host);
        Assert.Equal(0, old.InFlight);
        var difference = Assert.Single(old.Differences());
        Assert.Equal(LedgerDifferenceKind.Stuck, difference.Kind);
        Assert.Equal(life.PartlyRedeemed, difference.VoucherId);

        await host.Outbox.DrainAsync();
        Assert.Equal(0, (await RunAsync(host)).DifferenceCount);
    }

    [Fact]
    public async Task A_ledger_that_cannot_be_read_back_or_reached_gives_a_report_with_the_reason()
    {
        var writeOnly = new TestLedger { Readable = false };
        await using (var host = await StartAsync(writeOnly))
        {
            await LifecycleAsync(host);
            await host.Outbox.DrainAsync();
            var report = await RunAsync(host);
            Assert.Contains("cannot be read back", report.Error, StringComparison.Ordinal);
            Assert.Equal(0, report.VouchersChecked);
            Assert.NotNull(report.FinishedAt);
        }

        var down = new TestLedger { Down = true };
        await using (var host = await StartAsync(down))
        {
            await LifecycleAsync(host);
            await host.Outbox.DrainAsync();
            var scheduled = await host.RunAsync<LedgerReconciliation, LedgerReconciliationReport?>(r => r.RunIfDueAsync());
            Assert.NotNull(scheduled);
            Assert.Contains("chain unreachable", scheduled.Error, StringComparison.Ordinal);
            Assert.NotNull(scheduled.FinishedAt);
            Assert.Null(scheduled.RunLock);

            // The lock is released: the next run is possible.
            down.Down = false;
            Assert.Null((await RunAsync(host)).Error);
        }
    }

    [Fact]
    public async Task Two_hosts_running_the_scheduled_reconciliation_at_once_write_one_report_per_period()
    {
        await using var host = await TestHost.StartAsync(o => o.Ledger.ReconciliationInterval = TimeSpan.FromHours(6));
        await LifecycleAsync(host);
        await host.Outbox.DrainAsync();

        var outcomes = await RaceAsync(4, _ => host.RunAsync<LedgerReconciliation, LedgerReconciliationReport?>(r => r.RunIfDueAsync()));

        Assert.All(outcomes, o => Assert.True(o.Succeeded));
        Assert.Single(outcomes, o => o.Value is not null);
        Assert.Equal(1, await host.QueryAsync(db => db.LedgerReconciliationReports.CountAsync()));
        Assert.Null(await host.RunAsync<LedgerReconciliation, LedgerReconciliationReport?>(r => r.RunIfDueAsync()));

        // The background service's step: the next period runs once more, as a scheduled run.
        var jobs = host.Services.GetRequiredService<OpenMavn.Core.Jobs.OpenMavnJobs>();
        Assert.False(await jobs.ReconcileLedgerIfDueAsync());
        host.Time.Advance(TimeSpan.FromHours(6));
        Assert.True(await jobs.ReconcileLedgerIfDueAsync());
        Assert.False(await jobs.ReconcileLedgerIfDueAsync());
        var reports = await host.QueryAsync(db => db.LedgerReconciliationReports.AsNoTracking().ToListAsync());
        Assert.Equal(2, reports.Count);
        Assert.All(reports, r => Assert.Equal(("scheduled", 0L, (string?)null), (r.Trigger, r.DifferenceCount, r.Error)));
        Assert.Equal(2, reports.Select(r => r.Slot).Distinct().Count());
    }

    [Fact]
    public async Task A_reconciliation_asked_for_while_one_runs_is_a_conflict()
    {
        var slow = new TestLedger();
        await using var host = await StartAsync(slow);
        await LifecycleAsync(host);
        await host.Outbox.DrainAsync();
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        slow.BeforeRead = async () =>
        {
            reading.TrySetResult();
            await release.Task;
        };

        var first = Task.Run(() => RunAsync(host));
        await reading.Task;
        var conflict = await Assert.ThrowsAsync<ConflictException>(() => RunAsync(host));
        Assert.Equal("ledger.reconciliation_running", conflict.Code);
        Assert.Null(await host.RunAsync<LedgerReconciliation, LedgerReconciliationReport?>(r => r.RunIfDueAsync()));
        release.SetResult();
        var report = await first;

        Assert.Null(report.Error);
        Assert.Equal(1, await host.QueryAsync(db => db.LedgerReconciliationReports.CountAsync()));
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<LedgerReconciliation, LedgerReconciliationReport>(r => r.RunAsync(Actor.Member(Guid.NewGuid()))));
    }

    [Theory]
    [InlineData("ReconciliationInterval", 0.5)]
    [InlineData("ReconciliationInterval", 60 * 24 * 31)]
    [InlineData("StuckAfter", 0)]
    public async Task Ledger_options_out_of_range_are_refused(string option, double minutes)
    {
        await using var host = await TestHost.StartAsync(o =>
        {
            if (option == "StuckAfter")
            {
                o.Ledger.StuckAfter = TimeSpan.FromMinutes(minutes);
            }
            else
            {
                o.Ledger.ReconciliationInterval = TimeSpan.FromMinutes(minutes);
            }
        });

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<OpenMavnOptions>>().Value);
        Assert.Contains($"OpenMavn:Ledger:{option} must be between", error.Message, StringComparison.Ordinal);
    }

    private static Task<LedgerReconciliationReport> RunAsync(TestHost host) =>
        host.RunAsync<LedgerReconciliation, LedgerReconciliationReport>(r => r.RunAsync(Operator));

    private static Task<TestHost> StartAsync(TestLedger? ledger, Action<OpenMavnOptions>? configure = null) =>
        TestHost.StartAsync(configure, services =>
        {
            if (ledger is not null)
            {
                services.Replace(ServiceDescriptor.Singleton<IVoucherLedger>(sp => ledger.Wrap(sp.GetRequiredService<DatabaseVoucherLedger>())));
            }
        });

    private sealed record Lifecycle(int Vouchers, Guid StoredValueCampaign, Guid PartlyRedeemed, Actor Owner, Guid MerchantId, Actor Staff);

    /// <summary>
    /// Two shops; vouchers bought, one partly redeemed, one gifted, one exchanged for a voucher of the other shop,
    /// one refunded, and the other shop's short-lived vouchers expired.
    /// </summary>
    private static async Task<Lifecycle> LifecycleAsync(TestHost host)
    {
        var shop = await OpenShopAsync(host, StoredValue(faceValue: 5000, price: 4500));
        var shortLived = await OpenShopAsync(host, TestHost.Definition() with { ValidityDays = 30 });
        var alice = await host.CreateCustomerAsync($"alice{Guid.NewGuid():N}@example.ch");
        var bobEmail = $"bob{Guid.NewGuid():N}@example.ch";
        var bob = await host.CreateCustomerAsync(bobEmail);
        var (_, vouchers) = await host.BuyAsync(alice, shop.Campaign.Id, 4);
        var (redeemed, gifted, exchanged, refunded) = (vouchers[0], vouchers[1], vouchers[2], vouchers[3]);
        var bobs = await BuyOneAsync(host, bob, shortLived.Campaign);
        var kept = await BuyOneAsync(host, alice, shortLived.Campaign);

        await RedeemAsync(host, shop, redeemed.DisplayCode, 1200);
        await host.RunAsync<GiftService, Gift>(s => s.SendAsync(alice, new SendGift(gifted.Id, bobEmail)));
        var offer = await host.RunAsync<ExchangeService, ExchangeOffer>(s => s.OfferAsync(alice, new OfferExchange(exchanged.Id, bobs.Id, null)));
        await host.RunAsync<ExchangeService, ExchangeOffer>(s => s.AcceptAsync(bob, offer.Id));
        await host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(shop.Owner, refunded.Id, "Changed their mind"));
        host.Time.Advance(TimeSpan.FromDays(32));
        Assert.Equal(2, await host.RunAsync<VoucherService, int>(s => s.ExpireDueAsync()));
        Assert.Equal(VoucherStatus.Expired, (await host.VoucherAsync(kept.Id)).Status);
        return new Lifecycle(6, shop.Campaign.Id, redeemed.Id, shop.Owner, shop.MerchantId, shop.Staff);
    }
}

/// <summary>
/// A ledger over the database ledger that can disagree: it can change what it reads back, refuse to be read back,
/// be unreachable, or wait before reading.
/// </summary>
internal sealed class TestLedger
{
    public Func<LedgerVoucherState, LedgerVoucherState> Voucher { get; set; } = s => s;

    public Func<LedgerCampaignState, LedgerCampaignState> Campaign { get; set; } = c => c;

    public Func<Task>? BeforeRead { get; set; }

    public bool Readable { get; init; } = true;

    public volatile bool Down;

    public IVoucherLedger Wrap(DatabaseVoucherLedger inner) => Readable ? new Reader(this, inner) : new WriteOnly(inner);

    private sealed class WriteOnly(DatabaseVoucherLedger inner) : IVoucherLedger
    {
        public string Name => "write-only";

        public Task<IReadOnlyList<LedgerWriteResult>> RecordAsync(IReadOnlyList<LedgerEvent> events, CancellationToken cancellationToken = default) => inner.RecordAsync(events, cancellationToken);

        public Task<IReadOnlyList<LedgerWriteResult>> GetReceiptsAsync(IReadOnlyList<Guid> eventIds, CancellationToken cancellationToken = default) => inner.GetReceiptsAsync(eventIds, cancellationToken);
    }

    private sealed class Reader(TestLedger test, DatabaseVoucherLedger inner) : IVoucherLedger, IVoucherLedgerReader
    {
        public string Name => inner.Name;

        public Task<IReadOnlyList<LedgerWriteResult>> RecordAsync(IReadOnlyList<LedgerEvent> events, CancellationToken cancellationToken = default) => inner.RecordAsync(events, cancellationToken);

        public Task<IReadOnlyList<LedgerWriteResult>> GetReceiptsAsync(IReadOnlyList<Guid> eventIds, CancellationToken cancellationToken = default) => inner.GetReceiptsAsync(eventIds, cancellationToken);

        public string HolderOf(Guid customerId) => inner.HolderOf(customerId);

        public async Task<IReadOnlyList<LedgerVoucherState>> ReadVouchersAsync(IReadOnlyList<LedgerVoucherRef> vouchers, CancellationToken cancellationToken = default)
        {
            if (test.BeforeRead is { } wait)
            {
                await wait();
            }

            ThrowIfDown();
            return (await inner.ReadVouchersAsync(vouchers, cancellationToken)).Select(test.Voucher).ToList();
        }

        public async Task<IReadOnlyList<LedgerCampaignState>> ReadCampaignsAsync(IReadOnlyList<Guid> campaignIds, CancellationToken cancellationToken = default)
        {
            ThrowIfDown();
            return (await inner.ReadCampaignsAsync(campaignIds, cancellationToken)).Select(test.Campaign).ToList();
        }

        private void ThrowIfDown()
        {
            if (test.Down)
            {
                throw new HttpRequestException("chain unreachable: connection refused (127.0.0.1:8545)");
            }
        }
    }
}
