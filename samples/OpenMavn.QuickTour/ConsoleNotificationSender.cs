using OpenMavn.Core.Notifications;

namespace OpenMavn.QuickTour;

/// <summary>
/// A demo channel that prints every message, template values included, so the tour can show what a customer would
/// receive (including a gift's claim link). Real hosts use email and push; never print codes in production.
/// </summary>
internal sealed class ConsoleNotificationSender : INotificationSender
{
    private readonly List<NotificationMessage> _sent = [];

    public string Channel => "console";

    public IReadOnlyList<NotificationMessage> Sent
    {
        get
        {
            lock (_sent)
            {
                return [.. _sent];
            }
        }
    }

    public Task<NotificationOutcome> SendAsync(NotificationMessage message, CancellationToken cancellationToken = default)
    {
        lock (_sent)
        {
            _sent.Add(message);
        }

        Console.WriteLine($"      ✉ {message.Type} → {message.Recipient.Email} [{message.Language}]");
        return Task.FromResult(NotificationOutcome.Sent);
    }
}
