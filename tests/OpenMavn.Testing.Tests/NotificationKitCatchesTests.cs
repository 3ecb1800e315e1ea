using OpenMavn.Core;
using OpenMavn.Core.Notifications;
using OpenMavn.Testing.Notifications;

namespace OpenMavn.Testing.Tests;

/// <summary>
/// The sender suite fails on senders that break what Core relies on: the real SendGrid sender, wrapped so that it
/// drops the dedupe key or swallows failures, against the same stand-in as <see cref="SendGridNotificationConformance"/>.
/// </summary>
public sealed class NotificationKitCatchesTests
{
    [Fact]
    public async Task Kit_catches_a_sender_that_drops_the_dedupe_key()
    {
        await using var suite = await SuiteAsync(sender => new DedupeKeyDropping(sender));

        var error = await Assert.ThrowsAnyAsync<Exception>(suite.A_complete_message_is_sent_and_delivered_once_with_its_dedupe_key);

        Assert.Contains("must see the message's dedupe key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kit_catches_a_sender_that_swallows_a_receiver_failure()
    {
        await using var suite = await SuiteAsync(sender => new FailureSwallowing(sender));

        var error = await Assert.ThrowsAnyAsync<Exception>(suite.A_transient_receiver_failure_throws_a_transient_ProviderException_and_the_retry_delivers_once);

        Assert.Contains("must throw ProviderException", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kit_catches_a_sender_that_reports_every_failure_as_permanent()
    {
        await using var suite = await SuiteAsync(sender => new EverythingPermanent(sender));

        var error = await Assert.ThrowsAnyAsync<Exception>(suite.A_transient_receiver_failure_throws_a_transient_ProviderException_and_the_retry_delivers_once);

        Assert.Contains("IsTransient true", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kit_catches_a_sender_that_HTML_encodes_the_plain_text()
    {
        await using var suite = await SuiteAsync(sender => new HtmlEncodingValues(sender));

        var error = await Assert.ThrowsAnyAsync<Exception>(suite.Values_with_HTML_unicode_and_line_breaks_are_delivered_as_given);

        Assert.Contains("must reach the recipient as given", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_wrapper_passing_everything_through_passes_those_checks()
    {
        await using var suite = await SuiteAsync(sender => new PassThrough(sender));

        await suite.A_complete_message_is_sent_and_delivered_once_with_its_dedupe_key();
        await suite.A_transient_receiver_failure_throws_a_transient_ProviderException_and_the_retry_delivers_once();
        await suite.Values_with_HTML_unicode_and_line_breaks_are_delivered_as_given();
    }

    private static async Task<Suite> SuiteAsync(Func<INotificationSender, INotificationSender> wrap)
    {
        var suite = new Suite(wrap);
        await suite.InitializeAsync();
        return suite;
    }

    /// <summary>Not public: xunit must not run the whole suite on a broken sender by itself.</summary>
    private sealed class Suite(Func<INotificationSender, INotificationSender> wrap) : NotificationSenderConformanceTests, IAsyncDisposable
    {
        private readonly SendGridNotificationReceiver _receiver = new();

        protected override async Task<INotificationSender> CreateSenderAsync() => wrap(await _receiver.StartAsync());

        protected override Task<NotificationMessage> CreateMessageAsync(string dedupeKey, string text) => Task.FromResult(SendGridNotificationReceiver.Message(dedupeKey, text));

        protected override Task<NotificationMessage> CreateUnreachableMessageAsync(string dedupeKey) =>
            Task.FromResult(SendGridNotificationReceiver.Message(dedupeKey, PlainText, email: null));

        protected override Task<IReadOnlyList<NotificationDelivery>> DeliveriesAsync() => Task.FromResult(_receiver.Deliveries);

        protected override Task FailNextAsync(bool transient, TimeSpan? retryAfter = null)
        {
            _receiver.FailNext(transient, retryAfter);
            return Task.CompletedTask;
        }

        protected override Task DisposeSenderAsync() => _receiver.DisposeAsync().AsTask();

        ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());
    }

    private class PassThrough(INotificationSender inner) : INotificationSender
    {
        public string Channel => inner.Channel;

        public virtual Task<NotificationOutcome> SendAsync(NotificationMessage message, CancellationToken cancellationToken = default) =>
            inner.SendAsync(message, cancellationToken);
    }

    /// <summary>Sends every message under one fixed key: receivers would drop all but the first.</summary>
    private sealed class DedupeKeyDropping(INotificationSender inner) : PassThrough(inner)
    {
        public override Task<NotificationOutcome> SendAsync(NotificationMessage message, CancellationToken cancellationToken = default) =>
            base.SendAsync(message with { DedupeKey = "notification" }, cancellationToken);
    }

    /// <summary>Reports Sent when the receiver failed: the message would be lost.</summary>
    private sealed class FailureSwallowing(INotificationSender inner) : PassThrough(inner)
    {
        public override async Task<NotificationOutcome> SendAsync(NotificationMessage message, CancellationToken cancellationToken = default)
        {
            try
            {
                return await base.SendAsync(message, cancellationToken);
            }
            catch (ProviderException)
            {
                return NotificationOutcome.Sent;
            }
        }
    }

    /// <summary>Turns every failure into a permanent one: an outage would park messages instead of retrying them.</summary>
    private sealed class EverythingPermanent(INotificationSender inner) : PassThrough(inner)
    {
        public override async Task<NotificationOutcome> SendAsync(NotificationMessage message, CancellationToken cancellationToken = default)
        {
            try
            {
                return await base.SendAsync(message, cancellationToken);
            }
            catch (ProviderException ex)
            {
                throw new ProviderException(ex.Provider, ex.Message, transient: false, innerException: ex);
            }
        }
    }

    /// <summary>HTML-encodes the template values before rendering: the plain-text part shows &amp;lt;b&amp;gt;.</summary>
    private sealed class HtmlEncodingValues(INotificationSender inner) : PassThrough(inner)
    {
        public override Task<NotificationOutcome> SendAsync(NotificationMessage message, CancellationToken cancellationToken = default) =>
            base.SendAsync(message with { Model = message.Model.ToDictionary(p => p.Key, p => System.Net.WebUtility.HtmlEncode(p.Value)) }, cancellationToken);
    }
}
