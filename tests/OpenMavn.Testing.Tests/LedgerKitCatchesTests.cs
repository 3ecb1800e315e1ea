using OpenMavn.Core.Ledger;
using OpenMavn.Testing.Ledger;

namespace OpenMavn.Testing.Tests;

/// <summary>The ledger suite fails on ledgers that break what Core relies on (each differs from a passing one by one flag).</summary>
public sealed class LedgerKitCatchesTests
{
    [Fact]
    public async Task Kit_catches_a_ledger_that_appends_duplicates_on_replay()
    {
        var suite = await SuiteAsync(new LedgerWithLaterFinality { DuplicatesOnReplay = true });

        var error = await Assert.ThrowsAnyAsync<Exception>(suite.Recording_the_same_batch_again_is_a_no_op_that_returns_the_same_receipts);

        Assert.Contains("idempotent per EventId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kit_catches_a_ledger_that_reorders_a_voucher_s_events()
    {
        var suite = await SuiteAsync(new LedgerWithLaterFinality { ReversesBatches = true });

        var error = await Assert.ThrowsAnyAsync<Exception>(suite.Events_of_one_voucher_are_kept_in_order);

        Assert.Contains("kept in order", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kit_catches_a_ledger_that_confirms_events_it_never_recorded()
    {
        var suite = await SuiteAsync(new LedgerWithLaterFinality { ConfirmsUnknownIds = true });

        var error = await Assert.ThrowsAnyAsync<Exception>(suite.GetReceiptsAsync_for_unknown_events_claims_nothing);

        Assert.Contains("must not confirm an event that was never recorded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kit_catches_a_ledger_that_ignores_cancellation()
    {
        var suite = await SuiteAsync(new LedgerWithLaterFinality { IgnoresCancellation = true });

        var error = await Assert.ThrowsAnyAsync<Exception>(suite.RecordAsync_honours_cancellation);

        Assert.Contains("OperationCanceledException", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kit_catches_a_bad_configuration_that_is_accepted()
    {
        var suite = new Suite(new LedgerWithLaterFinality()) { Accepted = [("OpenMavn:Ledger:Memory:Nothing", _ => { })] };
        await suite.InitializeAsync();

        var error = await Assert.ThrowsAnyAsync<Exception>(suite.Bad_configuration_is_refused_with_a_message_naming_the_setting);

        Assert.Contains("was accepted", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_ledger_unbroken_passes_those_checks()
    {
        var suite = await SuiteAsync(new LedgerWithLaterFinality());

        await suite.Recording_the_same_batch_again_is_a_no_op_that_returns_the_same_receipts();
        await suite.Events_of_one_voucher_are_kept_in_order();
        await suite.GetReceiptsAsync_for_unknown_events_claims_nothing();
        await suite.RecordAsync_honours_cancellation();
    }

    private static async Task<Suite> SuiteAsync(LedgerWithLaterFinality ledger)
    {
        var suite = new Suite(ledger);
        await suite.InitializeAsync();
        return suite;
    }

    /// <summary>Not public: xunit must not run the whole suite on a broken ledger by itself.</summary>
    private sealed class Suite(LedgerWithLaterFinality ledger) : VoucherLedgerConformanceTests
    {
        /// <summary>"Bad" configurations that the composition accepts.</summary>
        public IEnumerable<(string Name, Action<IOpenMavnBuilder> Configure)> Accepted { get; init; } = [];

        protected override IEnumerable<(string Name, Action<IOpenMavnBuilder> Configure)> BadConfigurations => Accepted;

        protected override Task<IVoucherLedger> CreateLedgerAsync() => Task.FromResult<IVoucherLedger>(ledger);

        protected override Task<IReadOnlyList<Guid>> ReadBackAsync(CancellationToken cancellationToken = default) => Task.FromResult(ledger.EventIds);

        protected override Task AdvanceFinalityAsync(CancellationToken cancellationToken = default) => ledger.MineAsync();
    }
}
