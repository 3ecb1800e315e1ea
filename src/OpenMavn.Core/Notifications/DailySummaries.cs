using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenMavn.Core.Accounts;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Notifications;

/// <summary>
/// Sends each merchant that wants it (<see cref="Merchants.Merchant.DailySummary"/>) a summary of one local day in its
/// time zone: orders paid, vouchers sold, sales amount, redemptions and redeemed amount (amounts per currency).
/// </summary>
/// <remarks>
/// Once a local day is over, the job summarises <em>that</em> day — the most recent complete day — and records it in
/// <see cref="Merchants.Merchant.LastSummaryOn"/> with a guarded update in the transaction that queues the email, so
/// several hosts send it once. Only the most recent complete day is ever sent: after a downtime longer than a day the
/// days missed are skipped, not sent in a burst. A day without activity sends nothing (the date still advances).
/// New merchants start with the day they registered. Days are cut at local midnight, so a day may last 23 or 25 hours.
/// </remarks>
public sealed partial class DailySummaries(
    OpenMavnDbContext db,
    TimeProvider time,
    OutboxWriter outbox,
    ILogger<DailySummaries> logger)
{
    private const int BatchSize = 200;

    /// <summary>Queues the summaries that are due; returns how many were queued.</summary>
    public async Task<int> SendDueAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        // Merchants are grouped by time zone, so that "yesterday" is one date per group and the index finds those due.
        var zones = await db.Merchants.Where(m => m.DailySummary).Select(m => m.TimeZoneId).Distinct().ToListAsync(cancellationToken);
        var sent = 0;
        foreach (var zoneId in zones)
        {
            if (!TimeZoneInfo.TryFindSystemTimeZoneById(zoneId, out var zone))
            {
                continue;
            }

            var day = NotificationFormat.LocalDate(now, zoneId).AddDays(-1);
            var due = await db.Merchants
                .Where(m => m.DailySummary && m.TimeZoneId == zoneId && (m.LastSummaryOn == null || m.LastSummaryOn < day))
                .OrderBy(m => m.Id).Take(BatchSize).Select(m => m.Id)
                .ToListAsync(cancellationToken);
            foreach (var merchantId in due)
            {
                if (await SummariseAsync(merchantId, day, zone, cancellationToken))
                {
                    sent++;
                }
            }
        }

        if (sent > 0)
        {
            LogSent(logger, sent);
        }

        return sent;
    }

    private Task<bool> SummariseAsync(Guid merchantId, DateOnly day, TimeZoneInfo zone, CancellationToken cancellationToken) =>
        db.InTransactionAsync(
            async ct =>
            {
                var claimed = await db.Merchants
                    .Where(m => m.Id == merchantId && m.DailySummary && (m.LastSummaryOn == null || m.LastSummaryOn < day))
                    .ExecuteUpdateAsync(s => s.SetProperty(m => m.LastSummaryOn, day), ct);
                if (claimed == 0)
                {
                    return false; // another host summarised it, or the merchant opted out meanwhile
                }

                var from = CampaignService.StartOfDay(day, zone);
                var to = CampaignService.StartOfDay(day.AddDays(1), zone);
                var sales = await db.JournalEntries.AsNoTracking()
                    .Where(e => e.MerchantId == merchantId && e.Kind == JournalEntryKind.Sale && e.At >= from && e.At < to)
                    .Join(db.Orders, e => e.ReferenceId, o => o.Id, (e, o) => new { o.Quantity, o.Amount, o.Currency })
                    .ToListAsync(ct);
                var redemptions = await db.Redemptions.AsNoTracking()
                    .Where(r => r.MerchantId == merchantId && r.At >= from && r.At < to && r.ReversedAt == null)
                    .Select(r => new { r.Amount, r.Currency })
                    .ToListAsync(ct);
                if (sales.Count == 0 && redemptions.Count == 0)
                {
                    return false;
                }

                var merchant = await db.Merchants.AsNoTracking().FirstAsync(m => m.Id == merchantId, ct);
                var currencies = sales.Select(s => s.Currency).Concat(redemptions.Select(r => r.Currency)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
                outbox.Notify(new NotificationMessage(
                    NotificationTypes.MerchantDailySummary,
                    new NotificationRecipient(null, merchant.Email, merchant.Name),
                    merchant.Language,
                    new Dictionary<string, string>
                    {
                        ["merchantName"] = merchant.Name,
                        ["date"] = NotificationFormat.Date(day),
                        ["orders"] = NotificationFormat.Number(sales.Count),
                        ["vouchersSold"] = NotificationFormat.Number(sales.Sum(s => (long)s.Quantity)),
                        ["salesAmount"] = Amounts(sales.Select(s => (s.Amount, s.Currency)), currencies),
                        ["redemptions"] = NotificationFormat.Number(redemptions.Count),
                        ["redeemedAmount"] = Amounts(redemptions.Select(r => (r.Amount, r.Currency)), currencies),
                        ["timeZone"] = merchant.TimeZoneId,
                    },
                    $"summary:{merchantId:N}:{NotificationFormat.Date(day)}"));
                return true;
            },
            cancellationToken);

    /// <summary>"CHF 25.00, EUR 3.00": one sum per currency of the day; zero in each of the day's currencies when none.</summary>
    internal static string Amounts(IEnumerable<(long Amount, string Currency)> amounts, IReadOnlyList<string> dayCurrencies)
    {
        var sums = amounts.GroupBy(a => a.Currency, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new Money(g.Sum(a => a.Amount), g.Key).ToString()).ToList();
        if (sums.Count == 0)
        {
            sums = dayCurrencies.Select(c => Money.Zero(c).ToString()).ToList();
        }

        return sums.Count == 0 ? "0" : string.Join(", ", sums);
    }

    [LoggerMessage(EventId = 7102, Level = LogLevel.Information, Message = "{Count} daily merchant summaries queued")]
    private static partial void LogSent(ILogger logger, int count);
}
