using System.Globalization;
using OpenMavn.Core.Campaigns;

namespace OpenMavn.Core.Notifications;

/// <summary>
/// How template values are written (the contract the templates read): instants as ISO-8601 round-trip text, local
/// dates as <c>yyyy-MM-dd</c> in the merchant's time zone, yes/no flags as <c>"yes"</c> or empty.
/// </summary>
public static class NotificationFormat
{
    /// <summary>An instant, e.g. <c>2026-11-26T10:00:00.0000000+00:00</c>.</summary>
    public static string Instant(DateTimeOffset at) => at.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    /// <summary>A local date, e.g. <c>2026-11-26</c>.</summary>
    public static string Date(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A flag: <c>"yes"</c> or empty.</summary>
    public static string Flag(bool value) => value ? "yes" : "";

    /// <summary>A whole number.</summary>
    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The last local day on which a voucher is valid. <see cref="Vouchers.Voucher.ExpiresAt"/> is an exclusive end:
    /// the first instant of the following day in the merchant's zone (see <see cref="CampaignService.ComputeExpiry"/>),
    /// so the last valid day is the local date of the instant just before it — correct on 23- and 25-hour days and
    /// where a daylight-saving jump skips midnight.
    /// </summary>
    public static DateOnly LastValidDay(DateTimeOffset expiresAt, string timeZoneId) =>
        LocalDate(expiresAt.AddTicks(-1), timeZoneId);

    /// <summary>The local calendar date of an instant in a zone.</summary>
    public static DateOnly LocalDate(DateTimeOffset at, string timeZoneId) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, TimeZoneInfo.FindSystemTimeZoneById(timeZoneId)).DateTime);
}
