using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Notifications;

/// <summary>
/// Reminds voucher owners before their vouchers expire, at each of
/// <see cref="NotificationOptions.ExpiryReminderDays"/> days before the last valid day (in the merchant's time zone).
/// </summary>
/// <remarks>
/// A voucher is within N days when at most N valid local days are left, today included (N = 1: today is the last
/// day). Each (voucher, N) is reminded at most once: <see cref="Voucher.RemindedDays"/> holds the smallest N already
/// handled and is moved by a guarded update in the transaction that queues the message, so several hosts running the
/// job at once send one reminder. A voucher first seen inside a smaller window gets only that smaller reminder.
/// Owners who opted out (<see cref="Customers.Customer.ExpiryReminders"/>) get nothing, but the voucher is marked as
/// handled for that N so it is not scanned again.
/// </remarks>
public sealed partial class ExpiryReminders(
    OpenMavnDbContext db,
    TimeProvider time,
    OutboxWriter outbox,
    IOptions<OpenMavnOptions> options,
    ILogger<ExpiryReminders> logger)
{
    private const int BatchSize = 500;

    /// <summary>Queues the reminders that are due; returns how many were queued.</summary>
    public async Task<int> SendDueAsync(CancellationToken cancellationToken = default)
    {
        var days = options.Value.Notifications.ExpiryReminderDays.Where(d => d > 0).Distinct().OrderDescending().ToArray();
        if (days.Length == 0)
        {
            return 0;
        }

        var now = time.GetUtcNow();
        var sent = 0;
        foreach (var n in days)
        {
            // One extra day covers 25-hour days and zones ahead of UTC; the local-day rule decides below.
            var horizon = now.AddDays(n + 1);
            var candidates = await db.Vouchers.AsNoTracking()
                .Where(v => v.Status == VoucherStatus.Active && v.ExpiresAt > now && v.ExpiresAt <= horizon
                    && (v.RemindedDays == null || v.RemindedDays > n) && v.Balance > 0 && v.PendingGiftId == null)
                .Join(db.Merchants, v => v.MerchantId, m => m.Id, (v, m) => new { v.Id, v.ExpiresAt, m.TimeZoneId })
                .OrderBy(v => v.ExpiresAt).Take(BatchSize)
                .ToListAsync(cancellationToken);
            foreach (var c in candidates)
            {
                var daysLeft = DaysLeft(c.ExpiresAt, c.TimeZoneId, now);
                // Only the smallest window the voucher is in: a voucher first seen 2 days before gets the 3-day one only.
                var window = days.Where(d => d >= daysLeft).DefaultIfEmpty(0).Min();
                if (window == n && await RemindAsync(c.Id, n, daysLeft, cancellationToken))
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

    /// <summary>Valid local days left, today included: 1 on the last valid day.</summary>
    internal static int DaysLeft(DateTimeOffset expiresAt, string timeZoneId, DateTimeOffset now) =>
        NotificationFormat.LastValidDay(expiresAt, timeZoneId).DayNumber - NotificationFormat.LocalDate(now, timeZoneId).DayNumber + 1;

    private Task<bool> RemindAsync(Guid voucherId, int days, int daysLeft, CancellationToken cancellationToken) =>
        db.InTransactionAsync(
            async ct =>
            {
                var claimed = await db.Vouchers
                    .Where(v => v.Id == voucherId && v.Status == VoucherStatus.Active && v.Balance > 0 && (v.RemindedDays == null || v.RemindedDays > days))
                    .ExecuteUpdateAsync(s => s.SetProperty(v => v.RemindedDays, days), ct);
                if (claimed == 0)
                {
                    return false; // another host got there first, or the voucher changed
                }

                var voucher = await db.Vouchers.AsNoTracking().FirstAsync(v => v.Id == voucherId, ct);
                var owner = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == voucher.OwnerId, ct);
                if (owner is null || !owner.ExpiryReminders)
                {
                    return false; // handled: not scanned again for this window
                }

                var campaign = await db.Campaigns.AsNoTracking().Include(c => c.Translations).FirstAsync(c => c.Id == voucher.CampaignId, ct);
                var merchant = await db.Merchants.AsNoTracking().Where(m => m.Id == voucher.MerchantId).Select(m => new { m.Name, m.TimeZoneId }).FirstAsync(ct);
                outbox.Notify(new NotificationMessage(
                    NotificationTypes.ExpiryReminder,
                    new NotificationRecipient(owner.Id, owner.Email, owner.DisplayName),
                    owner.Language,
                    new Dictionary<string, string>
                    {
                        ["campaignName"] = campaign.Localize(owner.Language).Name,
                        ["merchantName"] = merchant.Name,
                        ["balance"] = voucher.BalanceMoney.ToString(),
                        ["expiresOn"] = NotificationFormat.Date(NotificationFormat.LastValidDay(voucher.ExpiresAt, merchant.TimeZoneId)),
                        ["daysLeft"] = NotificationFormat.Number(daysLeft),
                        ["voucherId"] = voucher.Id.ToString(),
                        ["timeZone"] = merchant.TimeZoneId,
                    },
                    $"expiry:{voucher.Id:N}:{days}"));
                return true;
            },
            cancellationToken);

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "{Count} expiry reminders queued")]
    private static partial void LogSent(ILogger logger, int count);
}
