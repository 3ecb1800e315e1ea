using Microsoft.Extensions.Logging;

namespace OpenMavn.Core.Notifications;

/// <summary>
/// The built-in sender: writes one log line per message (type, recipient id, language, dedupe key). Template
/// values are not logged: they can hold voucher codes and claim links, which are bearer secrets.
/// </summary>
public sealed partial class LoggingNotificationSender(ILogger<LoggingNotificationSender> logger) : INotificationSender
{
    /// <inheritdoc />
    public string Channel => "log";

    /// <inheritdoc />
    public Task<NotificationOutcome> SendAsync(NotificationMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (cancellationToken.IsCancellationRequested)
        {
            // The outbox is stopping: log nothing, so the message is not reported as sent when it will be retried.
            return Task.FromCanceled<NotificationOutcome>(cancellationToken);
        }

        LogMessage(logger, message.Type, message.Recipient.UserId, message.Language, message.DedupeKey);
        return Task.FromResult(NotificationOutcome.Sent);
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Notification {Type} for user {UserId} in {Language} (dedupe key {DedupeKey})")]
    private static partial void LogMessage(ILogger logger, string type, Guid? userId, string language, string dedupeKey);
}
