using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenMavn.Core.Ledger;

/// <summary>What a reconciliation found to differ between the database and the ledger.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LedgerDifferenceKind>))]
public enum LedgerDifferenceKind
{
    /// <summary>The database has the voucher and its events were written, but the ledger does not know it.</summary>
    MissingOnLedger = 0,

    /// <summary>The ledger names another holder than the voucher's owner.</summary>
    HolderDiffers = 1,

    /// <summary>The ledger's balance is not the voucher's balance.</summary>
    BalanceDiffers = 2,

    /// <summary>The ledger's status is not the voucher's status.</summary>
    StatusDiffers = 3,

    /// <summary>The ledger applied another number of events than the voucher had.</summary>
    EventCountDiffers = 4,

    /// <summary>The ledger rejected one of the voucher's events (a Failed receipt).</summary>
    WriteFailed = 5,

    /// <summary>One of the voucher's events has been waiting longer than <see cref="LedgerOptions.StuckAfter"/>.</summary>
    Stuck = 6,

    /// <summary>The ledger's issued or outstanding count of a campaign is not the database's.</summary>
    CampaignCountDiffers = 7,
}

/// <summary>One difference between the database and the ledger.</summary>
/// <param name="Kind">What differs.</param>
/// <param name="VoucherId">The voucher (null for a campaign difference).</param>
/// <param name="CampaignId">The campaign.</param>
/// <param name="Expected">What the database says.</param>
/// <param name="Actual">What the ledger says.</param>
public sealed record LedgerDifference(LedgerDifferenceKind Kind, Guid? VoucherId, Guid CampaignId, string Expected, string Actual);

/// <summary>
/// The outcome of one comparison of the database with the ledger, voucher by voucher and campaign by campaign.
/// A report is written when the run starts (then it is running) and completed when it ends.
/// </summary>
public sealed class LedgerReconciliationReport
{
    /// <summary>Most differences kept in a report (all are counted).</summary>
    public const int MaxDifferences = 1000;

    /// <summary>The value of <see cref="RunLock"/> while a reconciliation runs (one at a time, across hosts).</summary>
    internal const string Running = "running";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Identifier.</summary>
    public Guid Id { get; internal set; }

    /// <summary>The ledger compared (<c>database</c>, <c>ethereum</c>).</summary>
    public string Ledger { get; internal set; } = "";

    /// <summary><c>scheduled</c> (the background job) or <c>manual</c> (an operator).</summary>
    public string Trigger { get; internal set; } = "";

    /// <summary>The scheduled period this run belongs to (unique: one scheduled run per period); null for manual runs.</summary>
    public string? Slot { get; internal set; }

    /// <summary><see cref="Running"/> while the run is in progress, null afterwards (unique: one run at a time).</summary>
    public string? RunLock { get; internal set; }

    /// <summary>When it started.</summary>
    public DateTimeOffset StartedAt { get; internal set; }

    /// <summary>Last sign of life of the run (a run silent for long was abandoned by a stopped host).</summary>
    public DateTimeOffset HeartbeatAt { get; internal set; }

    /// <summary>When it finished; null while running.</summary>
    public DateTimeOffset? FinishedAt { get; internal set; }

    /// <summary>Vouchers compared.</summary>
    public long VouchersChecked { get; internal set; }

    /// <summary>Campaigns compared.</summary>
    public long CampaignsChecked { get; internal set; }

    /// <summary>Vouchers with an event still on its way to the ledger (not a difference).</summary>
    public long InFlight { get; internal set; }

    /// <summary>Differences found (all of them; at most <see cref="MaxDifferences"/> are listed).</summary>
    public long DifferenceCount { get; internal set; }

    /// <summary>The first <see cref="MaxDifferences"/> differences as JSON (see <see cref="Differences"/>).</summary>
    public string DifferencesJson { get; internal set; } = "[]";

    /// <summary>Why the ledger could not be compared (unreachable, not readable), if so.</summary>
    public string? Error { get; internal set; }

    /// <summary>The differences listed.</summary>
    public IReadOnlyList<LedgerDifference> Differences() =>
        JsonSerializer.Deserialize<List<LedgerDifference>>(DifferencesJson, Json) ?? [];
}
