using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using OpenMavn.Core.Ledger;
using Xunit;

namespace OpenMavn.Testing.Ledger;

/// <summary>
/// The conformance suite for an <see cref="IVoucherLedger"/>: inherit it in a test project, create the ledger under
/// test in <see cref="CreateLedgerAsync"/> and let <see cref="ReadBackAsync"/> show what the ledger holds. It checks
/// what OpenMavn.Core relies on: one result per event in the order given, idempotency per
/// <see cref="LedgerEvent.EventId"/> (a replayed or overlapping batch records nothing twice and answers the same
/// receipts), the order of one voucher's events, receipts that agree with what was recorded, and cancellation.
/// </summary>
/// <remarks>
/// <para>
/// Every test gets a fresh instance of the derived class (xunit), so <see cref="CreateLedgerAsync"/> runs once per
/// test. The ledger may be shared with other tests (a development chain): the suite only looks at the events it
/// recorded itself, identified by fresh event ids.
/// </para>
/// <para>
/// Ledgers where finality comes later (a chain): <see cref="IVoucherLedger.RecordAsync"/> may answer
/// <see cref="LedgerReceiptStatus.Pending"/>; override <see cref="AdvanceFinalityAsync"/> to make what was sent final
/// (mine blocks); afterwards <see cref="IVoucherLedger.GetReceiptsAsync"/> must answer
/// <see cref="LedgerReceiptStatus.Confirmed"/>. A receipt never goes back from confirmed to pending.
/// </para>
/// <para>
/// xunit 2 has no dynamic skip: a test of a capability the ledger declares it lacks returns early (and passes).
/// The tests are virtual: override one only when the ledger legitimately differs, and say why in your override.
/// </para>
/// </remarks>
public abstract class VoucherLedgerConformanceTests : IAsyncLifetime
{
    private IVoucherLedger? _ledger;

    /// <summary>The ledger under test (created by <see cref="CreateLedgerAsync"/> before each test).</summary>
    protected IVoucherLedger Ledger => _ledger ?? throw new InvalidOperationException("The ledger is created in InitializeAsync.");

    /// <summary>
    /// Registrations with an invalid setting, each with the setting's name as the refusal must name it (e.g.
    /// <c>OpenMavn:Ledger:Ethereum:RpcUrl</c>). The suite composes <c>AddOpenMavn</c> over an empty in-memory
    /// configuration plus the registration, runs the start-up validation and resolves <see cref="IVoucherLedger"/>;
    /// one of them must throw <see cref="OptionsValidationException"/>, <see cref="ArgumentException"/> or
    /// <see cref="ProviderException"/> whose message contains the name. Empty by default (then the test returns early):
    /// a ledger without settings, like the database ledger, has nothing to get wrong.
    /// </summary>
    protected virtual IEnumerable<(string Name, Action<IOpenMavnBuilder> Configure)> BadConfigurations => [];

    /// <summary>Creates the ledger under test (and whatever it needs: a database, a chain).</summary>
    protected abstract Task<IVoucherLedger> CreateLedgerAsync();

    /// <summary>
    /// The event ids the ledger holds, in ledger order, read from the ledger itself (its records, the chain's
    /// logs), not from the receipts it answered: one entry per stored record, so an event stored twice appears
    /// twice. It may hold other events too (they are ignored).
    /// </summary>
    /// <param name="cancellationToken">Cancellation.</param>
    protected abstract Task<IReadOnlyList<Guid>> ReadBackAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes what was recorded so far final (mine blocks, wait for confirmations). The default does nothing: the
    /// ledger is final as soon as <see cref="IVoucherLedger.RecordAsync"/> returns.
    /// </summary>
    /// <param name="cancellationToken">Cancellation.</param>
    protected virtual Task AdvanceFinalityAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <summary>Releases what <see cref="CreateLedgerAsync"/> made. The default disposes the ledger if it is disposable.</summary>
    protected virtual async Task DisposeLedgerAsync()
    {
        switch (_ledger)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    /// <inheritdoc />
    public async Task InitializeAsync() => _ledger = await CreateLedgerAsync();

    /// <inheritdoc />
    public Task DisposeAsync() => DisposeLedgerAsync();

    /// <summary>
    /// A new event for the suite (fresh event id; the voucher, campaign and merchant are fresh unless given).
    /// Override to adapt events to what the ledger accepts (e.g. a campaign it knows).
    /// </summary>
    /// <param name="kind">What happened.</param>
    /// <param name="voucherId">The voucher; a new one when null.</param>
    /// <param name="amount">Amount in minor units.</param>
    /// <param name="balanceAfter">Balance after, in minor units.</param>
    protected virtual LedgerEvent NewEvent(LedgerEventKind kind = LedgerEventKind.Issued, Guid? voucherId = null, long amount = 5000, long balanceAfter = 5000) =>
        new(
            Guid.NewGuid(),
            kind,
            voucherId ?? Guid.NewGuid(),
            CampaignId,
            MerchantId,
            100,
            HolderId,
            kind == LedgerEventKind.Transferred ? Guid.NewGuid() : null,
            amount,
            balanceAfter,
            "CHF",
            new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero).AddSeconds(Interlocked.Increment(ref _clock)));

    private long _clock;

    /// <summary>The campaign of the suite's events.</summary>
    protected Guid CampaignId { get; } = Guid.NewGuid();

    /// <summary>The merchant of the suite's events.</summary>
    protected Guid MerchantId { get; } = Guid.NewGuid();

    /// <summary>The holder of the suite's events.</summary>
    protected Guid HolderId { get; } = Guid.NewGuid();

    /// <summary>Core stores the ledger's name on every receipt: it must be a non-empty, stable name.</summary>
    [Fact]
    public virtual void Name_is_not_empty_and_stable()
    {
        var first = Ledger.Name;
        var second = Ledger.Name;
        Assert.False(string.IsNullOrWhiteSpace(first), "IVoucherLedger.Name must be a non-empty name (it is stored on every receipt).");
        Assert.True(first == second, $"IVoucherLedger.Name must be stable: it answered '{first}', then '{second}'.");
    }

    /// <summary>RecordAsync answers one result per event, in the order of the batch, for the events given.</summary>
    [Fact]
    public virtual async Task RecordAsync_returns_one_result_per_event_in_batch_order()
    {
        var voucher = Guid.NewGuid();
        var batch = new[] { NewEvent(voucherId: voucher), NewEvent(LedgerEventKind.Redeemed, voucher, 2000, 3000), NewEvent() };

        var results = await Ledger.RecordAsync(batch);

        AssertResultsMatch(batch, results, "RecordAsync");
        await AssertHeldOnceAsync(batch);
    }

    /// <summary>
    /// The outbox delivers at least once: recording the same batch again must store nothing new and answer the
    /// same receipts.
    /// </summary>
    [Fact]
    public virtual async Task Recording_the_same_batch_again_is_a_no_op_that_returns_the_same_receipts()
    {
        var voucher = Guid.NewGuid();
        var batch = new[] { NewEvent(voucherId: voucher), NewEvent(LedgerEventKind.Transferred, voucher) };

        var first = await Ledger.RecordAsync(batch);
        var again = await Ledger.RecordAsync(batch);

        AssertResultsMatch(batch, again, "RecordAsync (replayed batch)");
        for (var i = 0; i < batch.Length; i++)
        {
            AssertSameReceipt(first[i], again[i], "RecordAsync must be idempotent per EventId: replaying a batch answered a different receipt");
        }

        await AssertHeldOnceAsync(batch);
    }

    /// <summary>A batch that overlaps earlier ones records only its new events, and answers the earlier receipts for the others.</summary>
    [Fact]
    public virtual async Task Recording_an_overlapping_batch_records_only_the_new_events()
    {
        var a = NewEvent();
        var b = NewEvent();
        var c = NewEvent();
        var firstBatch = await Ledger.RecordAsync([a, b]);

        var overlapping = await Ledger.RecordAsync([b, c, a]);

        AssertResultsMatch([b, c, a], overlapping, "RecordAsync (overlapping batch)");
        AssertSameReceipt(firstBatch[1], overlapping[0], "RecordAsync must be idempotent per EventId: an event recorded earlier answered a different receipt in a later batch");
        AssertSameReceipt(firstBatch[0], overlapping[2], "RecordAsync must be idempotent per EventId: an event recorded earlier answered a different receipt in a later batch");
        await AssertHeldOnceAsync([a, b, c]);
        var held = Ours(await ReadBackAsync(), [a, b, c]);
        Assert.True(
            held.IndexOf(c.EventId) > held.IndexOf(b.EventId) && held.IndexOf(c.EventId) > held.IndexOf(a.EventId),
            "The new event of an overlapping batch must be recorded after the events recorded before it.");
    }

    /// <summary>Events of one voucher are kept in the order they arrive, within a batch and across batches.</summary>
    [Fact]
    public virtual async Task Events_of_one_voucher_are_kept_in_order()
    {
        var voucher = Guid.NewGuid();
        var events = new[]
        {
            NewEvent(LedgerEventKind.Issued, voucher, 5000, 5000),
            NewEvent(LedgerEventKind.Transferred, voucher, 0, 5000),
            NewEvent(LedgerEventKind.Redeemed, voucher, 2000, 3000),
            NewEvent(LedgerEventKind.RedemptionReversed, voucher, 2000, 5000),
            NewEvent(LedgerEventKind.Redeemed, voucher, 5000, 0),
        };

        var results = new List<LedgerWriteResult>();
        results.AddRange(await Ledger.RecordAsync(events[..3]));
        results.AddRange(await Ledger.RecordAsync([events[3]]));
        results.AddRange(await Ledger.RecordAsync([events[4]]));

        AssertResultsMatch(events, results, "RecordAsync");
        var held = Ours(await ReadBackAsync(), events);
        Assert.True(
            events.Select(e => e.EventId).SequenceEqual(held),
            $"Events of one voucher must be kept in order (Issued → Transferred → Redeemed → RedemptionReversed → Redeemed); the ledger holds them as {Describe(held, events)}.");
        await AssertPositionsFollowAsync(events);
    }

    /// <summary>A batch may mix vouchers: every event is recorded once and each voucher's events keep their order.</summary>
    [Fact]
    public virtual async Task Events_of_different_vouchers_in_one_batch_are_all_recorded_in_order()
    {
        var (v1, v2, v3) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var batch = new[]
        {
            NewEvent(LedgerEventKind.Issued, v1),
            NewEvent(LedgerEventKind.Issued, v2),
            NewEvent(LedgerEventKind.Redeemed, v1, 5000, 0),
            NewEvent(LedgerEventKind.Issued, v3),
            NewEvent(LedgerEventKind.Transferred, v2, 0, 5000),
            NewEvent(LedgerEventKind.Expired, v3, 5000, 0),
        };

        var results = await Ledger.RecordAsync(batch);

        AssertResultsMatch(batch, results, "RecordAsync");
        await AssertHeldOnceAsync(batch);
        var held = await ReadBackAsync();
        foreach (var voucher in new[] { v1, v2, v3 })
        {
            var ofVoucher = batch.Where(e => e.VoucherId == voucher).ToArray();
            var order = Ours(held, ofVoucher);
            Assert.True(
                ofVoucher.Select(e => e.EventId).SequenceEqual(order),
                $"Events of one voucher must keep their order when a batch mixes vouchers; voucher {voucher} holds {Describe(order, ofVoucher)}.");
        }
    }

    /// <summary>
    /// GetReceiptsAsync reports what RecordAsync answered, or a later state once finality advanced
    /// (<see cref="AdvanceFinalityAsync"/>): then every receipt is confirmed, and a confirmed receipt keeps its
    /// reference and position.
    /// </summary>
    [Fact]
    public virtual async Task GetReceiptsAsync_reports_what_was_recorded_and_reaches_finality()
    {
        var batch = new[] { NewEvent(), NewEvent(), NewEvent() };
        var recorded = await Ledger.RecordAsync(batch);

        var before = await Ledger.GetReceiptsAsync(batch.Select(e => e.EventId).Reverse().ToList());
        AssertOnePerId(batch, before);
        foreach (var result in recorded)
        {
            var now = before.Single(r => r.EventId == result.EventId);
            AssertNoRegression(result, now);
        }

        await AdvanceFinalityAsync();
        var after = await Ledger.GetReceiptsAsync(batch.Select(e => e.EventId).ToList());
        AssertOnePerId(batch, after);
        foreach (var result in recorded)
        {
            var final = after.Single(r => r.EventId == result.EventId);
            Assert.True(
                final.Status == LedgerReceiptStatus.Confirmed,
                $"After AdvanceFinalityAsync, GetReceiptsAsync must report a recorded event as Confirmed; event {result.EventId} is {final.Status}.");
            Assert.False(string.IsNullOrEmpty(final.TransactionReference), $"A confirmed receipt must carry its transaction reference (event {result.EventId}).");
            AssertNoRegression(result, final);
        }

        // What a replay answers after finality is the final receipt.
        var replayed = await Ledger.RecordAsync(batch);
        for (var i = 0; i < batch.Length; i++)
        {
            AssertSameReceipt(after.Single(r => r.EventId == batch[i].EventId), replayed[i], "After finality, replaying a batch must answer the final receipts");
        }

        await AssertHeldOnceAsync(batch);
    }

    /// <summary>
    /// GetReceiptsAsync for ids never recorded claims nothing: it leaves them out, or answers them as not confirmed
    /// (the database ledger answers <see cref="LedgerReceiptStatus.Pending"/> without a reference). It does not throw,
    /// and answers the known ids of the same call.
    /// </summary>
    /// <remarks>
    /// Core takes the receipt it stores from RecordAsync's answer and does not call GetReceiptsAsync today; a
    /// finality poller asks for ids it recorded, and must never see a confirmation for an event the ledger does not hold.
    /// </remarks>
    [Fact]
    public virtual async Task GetReceiptsAsync_for_unknown_events_claims_nothing()
    {
        var known = NewEvent();
        await Ledger.RecordAsync([known]);
        await AdvanceFinalityAsync();
        var unknown = new[] { Guid.NewGuid(), Guid.NewGuid() };

        var receipts = await Ledger.GetReceiptsAsync([unknown[0], known.EventId, unknown[1]]);

        Assert.All(receipts, r => Assert.True(
            r.EventId == known.EventId || unknown.Contains(r.EventId),
            $"GetReceiptsAsync must answer only the ids asked for; it answered {r.EventId}."));
        Assert.True(receipts.Count(r => r.EventId == known.EventId) == 1, "GetReceiptsAsync must answer a recorded event once, also when unknown ids are asked for with it.");
        foreach (var r in receipts.Where(r => unknown.Contains(r.EventId)))
        {
            Assert.True(
                r.Status != LedgerReceiptStatus.Confirmed,
                $"GetReceiptsAsync must not confirm an event that was never recorded ({r.EventId}): leave it out or answer Pending/Failed.");
        }

        Assert.True(receipts.Count(r => r.EventId == unknown[0]) <= 1 && receipts.Count(r => r.EventId == unknown[1]) <= 1, "GetReceiptsAsync must answer each id at most once.");
    }

    /// <summary>An empty batch records nothing and answers an empty list; so does GetReceiptsAsync for no ids.</summary>
    [Fact]
    public virtual async Task An_empty_batch_records_nothing_and_answers_nothing()
    {
        var before = (await ReadBackAsync()).Count;

        var recorded = await Ledger.RecordAsync([]);
        var receipts = await Ledger.GetReceiptsAsync([]);

        Assert.True(recorded.Count == 0, $"RecordAsync of an empty batch must answer an empty list; it answered {recorded.Count} result(s).");
        Assert.True(receipts.Count == 0, $"GetReceiptsAsync of no ids must answer an empty list; it answered {receipts.Count} result(s).");
        Assert.True((await ReadBackAsync()).Count == before, "RecordAsync of an empty batch must not store anything.");
    }

    /// <summary>RecordAsync with a cancelled token throws <see cref="OperationCanceledException"/> and records nothing; a later call records the batch.</summary>
    [Fact]
    public virtual async Task RecordAsync_honours_cancellation()
    {
        var batch = new[] { NewEvent(), NewEvent() };
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var error = await Record.ExceptionAsync(() => Ledger.RecordAsync(batch, cancelled.Token));

        Assert.True(error is OperationCanceledException, $"RecordAsync with a cancelled token must throw OperationCanceledException; it {(error is null ? "returned" : "threw " + error.GetType().Name)}.");
        Assert.True(Ours(await ReadBackAsync(), batch).Count == 0, "RecordAsync with a cancelled token must not record anything.");

        var results = await Ledger.RecordAsync(batch);
        AssertResultsMatch(batch, results, "RecordAsync (after a cancelled call)");
        await AssertHeldOnceAsync(batch);
    }

    /// <summary>GetReceiptsAsync with a cancelled token throws <see cref="OperationCanceledException"/>.</summary>
    [Fact]
    public virtual async Task GetReceiptsAsync_honours_cancellation()
    {
        var recorded = NewEvent();
        await Ledger.RecordAsync([recorded]);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var error = await Record.ExceptionAsync(() => Ledger.GetReceiptsAsync([recorded.EventId], cancelled.Token));

        Assert.True(error is OperationCanceledException, $"GetReceiptsAsync with a cancelled token must throw OperationCanceledException; it {(error is null ? "returned" : "threw " + error.GetType().Name)}.");
    }

    /// <summary>Each of <see cref="BadConfigurations"/> is refused at start-up or when the ledger is resolved, naming the setting.</summary>
    [Fact]
    public virtual async Task Bad_configuration_is_refused_with_a_message_naming_the_setting()
    {
        foreach (var (name, configure) in BadConfigurations)
        {
            await BadConfiguration.AssertRefusedAsync(name, configure, null, provider => provider.GetRequiredService<IVoucherLedger>(), "the ledger");
        }
    }

    // ---- assertions ----

    private static void AssertResultsMatch(IReadOnlyList<LedgerEvent> events, IReadOnlyList<LedgerWriteResult> results, string call)
    {
        Assert.True(results is not null, $"{call} must answer a list of results, not null.");
        Assert.True(
            results.Count == events.Count,
            $"{call} must answer one result per event: {events.Count} event(s) in, {results.Count} result(s) out. Core takes the result of a one-event batch with Single().");
        for (var i = 0; i < events.Count; i++)
        {
            Assert.True(
                results[i].EventId == events[i].EventId,
                $"{call} must answer the results in the order of the events: result {i} is for {results[i].EventId}, event {i} is {events[i].EventId}.");
            Assert.True(
                results[i].Status != LedgerReceiptStatus.Failed,
                $"{call} refused a valid event ({events[i].Kind}, {events[i].EventId}) with Failed.");
            if (results[i].Status == LedgerReceiptStatus.Confirmed)
            {
                Assert.False(string.IsNullOrEmpty(results[i].TransactionReference), $"{call}: a confirmed result must carry its transaction reference (event {events[i].EventId}).");
            }
        }
    }

    private static void AssertOnePerId(IReadOnlyList<LedgerEvent> events, IReadOnlyList<LedgerWriteResult> receipts)
    {
        foreach (var e in events)
        {
            var count = receipts.Count(r => r.EventId == e.EventId);
            Assert.True(count == 1, $"GetReceiptsAsync must answer each recorded event once; event {e.EventId} was answered {count} time(s).");
        }
    }

    /// <summary>Same receipt, allowing Pending → Confirmed (same reference when the first had one).</summary>
    private static void AssertSameReceipt(LedgerWriteResult first, LedgerWriteResult later, string contract)
    {
        Assert.True(first.EventId == later.EventId, $"{contract}: answered for {later.EventId} instead of {first.EventId}.");
        if (first.Status == LedgerReceiptStatus.Confirmed)
        {
            Assert.True(first == later, $"{contract}: first {first}, then {later}.");
            return;
        }

        AssertNoRegression(first, later, contract);
    }

    private static void AssertNoRegression(LedgerWriteResult earlier, LedgerWriteResult later, string contract = "GetReceiptsAsync must report what RecordAsync answered, or a later state")
    {
        if (earlier.Status == LedgerReceiptStatus.Confirmed)
        {
            Assert.True(
                later.Status == LedgerReceiptStatus.Confirmed && later.TransactionReference == earlier.TransactionReference && later.Position == earlier.Position,
                $"{contract}: a confirmed receipt must stay as it was; first {earlier}, then {later}.");
            return;
        }

        Assert.True(later.Status != LedgerReceiptStatus.Failed, $"{contract}: a pending receipt of a valid event turned Failed: {later}.");
        if (earlier.TransactionReference is not null && later.TransactionReference is not null)
        {
            Assert.True(later.TransactionReference == earlier.TransactionReference, $"{contract}: the transaction reference changed from {earlier.TransactionReference} to {later.TransactionReference}.");
        }
    }

    private async Task AssertHeldOnceAsync(IReadOnlyList<LedgerEvent> events)
    {
        var held = await ReadBackAsync();
        foreach (var e in events)
        {
            var count = held.Count(id => id == e.EventId);
            Assert.True(
                count == 1,
                count == 0
                    ? $"The ledger must hold every recorded event; {e.Kind} {e.EventId} is missing."
                    : $"RecordAsync must be idempotent per EventId: the ledger holds {e.Kind} {e.EventId} {count} times.");
        }
    }

    private async Task AssertPositionsFollowAsync(IReadOnlyList<LedgerEvent> events)
    {
        await AdvanceFinalityAsync();
        var receipts = await Ledger.GetReceiptsAsync(events.Select(e => e.EventId).ToList());
        var positions = events.Select(e => receipts.Single(r => r.EventId == e.EventId).Position).ToList();
        if (positions.Any(p => p is null))
        {
            return;
        }

        for (var i = 1; i < positions.Count; i++)
        {
            Assert.True(
                positions[i] >= positions[i - 1],
                $"Positions (sequence or block) of one voucher's events must not go backwards: {string.Join(", ", positions)}.");
        }
    }

    private static List<Guid> Ours(IReadOnlyList<Guid> held, IReadOnlyList<LedgerEvent> events)
    {
        var ids = events.Select(e => e.EventId).ToHashSet();
        return held.Where(ids.Contains).ToList();
    }

    private static string Describe(IReadOnlyList<Guid> held, IReadOnlyList<LedgerEvent> events) =>
        "[" + string.Join(", ", held.Select(id => events.FirstOrDefault(e => e.EventId == id)?.Kind.ToString() ?? id.ToString())) + "]";
}
