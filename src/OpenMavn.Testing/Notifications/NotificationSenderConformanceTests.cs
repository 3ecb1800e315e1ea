using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using OpenMavn.Core.Notifications;
using Xunit;

namespace OpenMavn.Testing.Notifications;

/// <summary>What the receiver (the email service, the push service, the log) saw of one delivery.</summary>
/// <param name="DedupeKey">
/// The dedupe key the delivery carried, as the receiver saw it (SendGrid's <c>custom_args</c>, an FCM collapse key,
/// a log value); compared with <see cref="NotificationSenderConformanceTests.DedupeKeyAsDelivered"/>.
/// </param>
/// <param name="Recipient">Who it went to (an address, a device token, a user id); compared with <see cref="NotificationSenderConformanceTests.ExpectedRecipient"/>.</param>
/// <param name="Type">The notification type it carried (<see cref="NotificationTypes"/>).</param>
/// <param name="Content">
/// The human-readable text the recipient gets (an email's text part, a push body), or null when the channel
/// does not deliver the template values (a log that must not show voucher codes).
/// </param>
public sealed record NotificationDelivery(string DedupeKey, string Recipient, string Type, string? Content = null);

/// <summary>
/// The conformance suite for an <see cref="INotificationSender"/>: inherit it in a test project, create the sender
/// under test (pointed at a local stand-in of its service) in <see cref="CreateSenderAsync"/>, and let
/// <see cref="DeliveriesAsync"/> show what that receiver saw. It checks what OpenMavn.Core's outbox relies on: a
/// stable channel name, one delivery carrying the message's dedupe key per send, <see cref="NotificationOutcome.Skipped"/>
/// for a recipient the channel cannot reach, <see cref="ProviderException"/> with the right
/// <see cref="ProviderException.IsTransient"/> (and <see cref="ProviderException.RetryAfter"/>) when the receiver
/// fails, template values delivered as given, cancellation, and clear refusals of bad configuration.
/// </summary>
/// <remarks>
/// <para>
/// Every test gets a fresh instance of the derived class (xunit), so <see cref="CreateSenderAsync"/> runs once per
/// test; give each its own receiver (or let <see cref="DeliveriesAsync"/> return only what this test's sender delivered).
/// </para>
/// <para>
/// Optional capabilities are virtual bool properties whose default is the strict choice (<see cref="CanSkipRecipients"/>,
/// <see cref="CanFail"/>, <see cref="ReportsRetryAfter"/>). xunit 2 has no dynamic skip: a test of a capability the
/// sender declares it lacks returns early (and passes). The tests are virtual: override one only when the channel
/// legitimately differs, and say why in your override.
/// </para>
/// </remarks>
public abstract class NotificationSenderConformanceTests : IAsyncLifetime
{
    /// <summary>Text with HTML, quotes, an ampersand, accents, an emoji, CJK and line breaks (CRLF and LF).</summary>
    public const string TrickyText = "Café <b>Rosa</b> & Söhne \"Zürich\" l’Ours 😀 日本語\r\nzweite Zeile <script>x</script>\nthird line";

    /// <summary>A plain value for <see cref="CreateMessageAsync"/> when the test does not look at the content.</summary>
    public const string PlainText = "Café Rosa";

    private INotificationSender? _sender;

    /// <summary>The sender under test (created by <see cref="CreateSenderAsync"/> before each test).</summary>
    protected INotificationSender Sender => _sender ?? throw new InvalidOperationException("The sender is created in InitializeAsync.");

    /// <summary>
    /// True (the strict default) when some recipients are out of the channel's reach (no email address, no
    /// device) and <see cref="CreateUnreachableMessageAsync"/> makes one. False for a channel that reaches everyone
    /// (a log).
    /// </summary>
    protected virtual bool CanSkipRecipients => true;

    /// <summary>True (the strict default) when the receiver can fail and <see cref="FailNextAsync"/> makes it. False for a channel that cannot fail (a log).</summary>
    protected virtual bool CanFail => true;

    /// <summary>True (the strict default) when the receiver can ask for a wait (<c>Retry-After</c>) and the sender passes it on.</summary>
    protected virtual bool ReportsRetryAfter => true;

    /// <summary>
    /// Registrations with an invalid setting, each with the setting's name as the refusal must name it (e.g.
    /// <c>OpenMavn:Notifications:SendGrid:ApiKey</c>). The suite composes <c>AddOpenMavn</c> over an empty in-memory
    /// configuration plus the registration, runs the start-up validation and resolves every
    /// <see cref="INotificationSender"/> in a scope; one of them must throw <see cref="OptionsValidationException"/>,
    /// <see cref="ArgumentException"/> or <see cref="ProviderException"/> whose message contains the name. Add what
    /// your sender needs to be resolved (a storage) in the registration. Empty by default (the test returns early).
    /// </summary>
    protected virtual IEnumerable<(string Name, Action<IOpenMavnBuilder> Configure)> BadConfigurations => [];

    /// <summary>Creates the sender under test, pointed at its receiver (a local stand-in of the service).</summary>
    protected abstract Task<INotificationSender> CreateSenderAsync();

    /// <summary>
    /// A complete message (a type with every template value it uses, a language) for a recipient the channel can
    /// reach (an email address, a user with one registered device), with <paramref name="dedupeKey"/> as its dedupe key
    /// and <paramref name="text"/> as a template value the delivered content shows (e.g. the merchant's name).
    /// </summary>
    /// <param name="dedupeKey">The dedupe key to use.</param>
    /// <param name="text">A value the recipient must see as given (<see cref="PlainText"/> or <see cref="TrickyText"/>).</param>
    protected abstract Task<NotificationMessage> CreateMessageAsync(string dedupeKey, string text);

    /// <summary>A complete message for a recipient the channel cannot reach (no email address, no device). Needed when <see cref="CanSkipRecipients"/>.</summary>
    /// <param name="dedupeKey">The dedupe key to use.</param>
    protected virtual Task<NotificationMessage> CreateUnreachableMessageAsync(string dedupeKey) =>
        throw new NotSupportedException($"Override CreateUnreachableMessageAsync, or override CanSkipRecipients to return false if every recipient is within the channel's reach.");

    /// <summary>Everything the receiver saw since the sender was created, in order.</summary>
    protected abstract Task<IReadOnlyList<NotificationDelivery>> DeliveriesAsync();

    /// <summary>
    /// Makes the receiver fail the next delivery: transiently (an outage, 503, 429) or for good (refused, 403), with
    /// <paramref name="retryAfter"/> as the wait it asks for when given. Needed when <see cref="CanFail"/>.
    /// </summary>
    /// <param name="transient">True for a failure worth retrying.</param>
    /// <param name="retryAfter">The wait the receiver asks for, if any.</param>
    protected virtual Task FailNextAsync(bool transient, TimeSpan? retryAfter = null) =>
        throw new NotSupportedException("Override FailNextAsync, or override CanFail to return false if the channel cannot fail.");

    /// <summary>The dedupe key as the receiver sees it. Default: unchanged. Override when the channel carries a derived form (an FCM collapse key).</summary>
    /// <param name="dedupeKey">The message's dedupe key.</param>
    protected virtual string DedupeKeyAsDelivered(string dedupeKey) => dedupeKey;

    /// <summary>Who the receiver must see as recipient of <paramref name="message"/>. Default: its email address, else its user id.</summary>
    /// <param name="message">The message sent.</param>
    protected virtual string ExpectedRecipient(NotificationMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Recipient.Email ?? message.Recipient.UserId?.ToString() ?? "";
    }

    /// <summary>Releases what <see cref="CreateSenderAsync"/> made. The default disposes the sender if it is disposable.</summary>
    protected virtual async Task DisposeSenderAsync()
    {
        switch (_sender)
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
    public async Task InitializeAsync() => _sender = await CreateSenderAsync();

    /// <inheritdoc />
    public Task DisposeAsync() => DisposeSenderAsync();

    /// <summary>A fresh dedupe key shaped like Core's (<c>{what}:{id}:{channel}</c>).</summary>
    protected string NewDedupeKey() => $"conformance:{Guid.NewGuid():N}:{Sender.Channel}";

    /// <summary>Core picks the sender of a message by its channel name: it must be non-empty and stable.</summary>
    [Fact]
    public virtual void Channel_is_not_empty_and_stable()
    {
        var first = Sender.Channel;
        var second = Sender.Channel;
        Assert.False(string.IsNullOrWhiteSpace(first), "INotificationSender.Channel must be a non-empty name (Core routes messages by it).");
        Assert.True(first == second, $"INotificationSender.Channel must be stable: it answered '{first}', then '{second}'.");
    }

    /// <summary>A complete message is <see cref="NotificationOutcome.Sent"/> and the receiver sees exactly one delivery carrying its dedupe key, recipient and type.</summary>
    [Fact]
    public virtual async Task A_complete_message_is_sent_and_delivered_once_with_its_dedupe_key()
    {
        var message = await CreateMessageAsync(NewDedupeKey(), PlainText);

        var outcome = await Sender.SendAsync(message);

        Assert.True(outcome == NotificationOutcome.Sent, $"SendAsync of a complete message for a reachable recipient must answer Sent; it answered {outcome}.");
        await AssertDeliveredOnceAsync(message);
    }

    /// <summary>Each message carries its own dedupe key (receivers drop a second delivery with the same key).</summary>
    [Fact]
    public virtual async Task Each_message_carries_its_own_dedupe_key()
    {
        var first = await CreateMessageAsync(NewDedupeKey(), PlainText);
        var second = await CreateMessageAsync(NewDedupeKey(), PlainText);

        await Sender.SendAsync(first);
        await Sender.SendAsync(second);

        await AssertDeliveredOnceAsync(first);
        await AssertDeliveredOnceAsync(second);
    }

    /// <summary>A recipient the channel cannot reach is <see cref="NotificationOutcome.Skipped"/> and nothing is delivered.</summary>
    [Fact]
    public virtual async Task A_recipient_the_channel_cannot_reach_is_skipped_and_nothing_is_delivered()
    {
        if (!CanSkipRecipients)
        {
            return; // The channel reaches every recipient.
        }

        var message = await CreateUnreachableMessageAsync(NewDedupeKey());
        var before = (await DeliveriesAsync()).Count;

        var outcome = await Sender.SendAsync(message);

        Assert.True(outcome == NotificationOutcome.Skipped, $"SendAsync for a recipient the channel cannot reach must answer Skipped (the outbox then closes the message); it answered {outcome}.");
        Assert.True((await DeliveriesAsync()).Count == before, "SendAsync for a recipient the channel cannot reach must deliver nothing.");
    }

    /// <summary>
    /// A transient receiver failure throws <see cref="ProviderException"/> with IsTransient true (the outbox retries),
    /// delivers nothing, and the retry delivers exactly once.
    /// </summary>
    [Fact]
    public virtual async Task A_transient_receiver_failure_throws_a_transient_ProviderException_and_the_retry_delivers_once()
    {
        if (!CanFail)
        {
            return; // The channel cannot fail.
        }

        var message = await CreateMessageAsync(NewDedupeKey(), PlainText);
        await FailNextAsync(transient: true);

        var error = await Record.ExceptionAsync(() => Sender.SendAsync(message));

        var failure = AssertProviderException(error, "a receiver failing transiently (503)");
        Assert.True(failure.IsTransient, $"A transient receiver failure must throw ProviderException with IsTransient true, so the outbox retries it; it was not transient: {failure.Message}");
        Assert.DoesNotContain(await DeliveriesAsync(), d => d.DedupeKey == DedupeKeyAsDelivered(message.DedupeKey));

        var outcome = await Sender.SendAsync(message);
        Assert.True(outcome == NotificationOutcome.Sent, $"The outbox's retry after a transient failure must be Sent; it answered {outcome}.");
        await AssertDeliveredOnceAsync(message);
    }

    /// <summary>A transient failure that asks for a wait passes it on in <see cref="ProviderException.RetryAfter"/>.</summary>
    [Fact]
    public virtual async Task A_Retry_After_from_the_receiver_is_passed_on()
    {
        if (!CanFail || !ReportsRetryAfter)
        {
            return; // The receiver cannot fail, or cannot ask for a wait.
        }

        var message = await CreateMessageAsync(NewDedupeKey(), PlainText);
        var wait = TimeSpan.FromSeconds(30);
        await FailNextAsync(transient: true, wait);

        var failure = AssertProviderException(await Record.ExceptionAsync(() => Sender.SendAsync(message)), "a receiver asking to wait 30 s (429 with Retry-After)");

        Assert.True(failure.IsTransient, $"A failure that asks for a wait must be transient: {failure.Message}");
        Assert.True(
            failure.RetryAfter is { } retryAfter && (retryAfter - wait).Duration() <= TimeSpan.FromSeconds(1),
            $"ProviderException.RetryAfter must carry the wait the receiver asked for (30 s), so the outbox waits that long; it was {failure.RetryAfter?.ToString() ?? "null"}.");
    }

    /// <summary>A permanent receiver failure throws <see cref="ProviderException"/> with IsTransient false and delivers nothing.</summary>
    [Fact]
    public virtual async Task A_permanent_receiver_failure_throws_a_permanent_ProviderException()
    {
        if (!CanFail)
        {
            return; // The channel cannot fail.
        }

        var message = await CreateMessageAsync(NewDedupeKey(), PlainText);
        await FailNextAsync(transient: false);

        var failure = AssertProviderException(await Record.ExceptionAsync(() => Sender.SendAsync(message)), "a receiver refusing for good (403)");

        Assert.False(failure.IsTransient, $"A permanent receiver failure must throw ProviderException with IsTransient false, so the outbox parks the message instead of retrying forever: {failure.Message}");
        Assert.DoesNotContain(await DeliveriesAsync(), d => d.DedupeKey == DedupeKeyAsDelivered(message.DedupeKey));
    }

    /// <summary>
    /// Values with HTML, quotes, unicode and line breaks are delivered as given (not stripped, not HTML-encoded in
    /// plain text, not mangled); line breaks may become spaces where the channel is one line (a push body).
    /// </summary>
    [Fact]
    public virtual async Task Values_with_HTML_unicode_and_line_breaks_are_delivered_as_given()
    {
        var message = await CreateMessageAsync(NewDedupeKey(), TrickyText);

        var outcome = await Sender.SendAsync(message);

        Assert.True(outcome == NotificationOutcome.Sent, $"SendAsync of a message whose values hold HTML, unicode and line breaks must answer Sent; it answered {outcome}.");
        var delivery = await AssertDeliveredOnceAsync(message);
        if (delivery.Content is null)
        {
            return; // The channel does not deliver template values.
        }

        Assert.True(
            Collapse(delivery.Content).Contains(Collapse(TrickyText), StringComparison.Ordinal),
            $"Template values must reach the recipient as given (in plain text: not HTML-encoded, not stripped). Expected to find:\n{TrickyText}\nin what was delivered:\n{delivery.Content}");
    }

    /// <summary>SendAsync with a cancelled token throws <see cref="OperationCanceledException"/> and delivers nothing.</summary>
    [Fact]
    public virtual async Task SendAsync_honours_cancellation()
    {
        var message = await CreateMessageAsync(NewDedupeKey(), PlainText);
        var before = (await DeliveriesAsync()).Count;
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var error = await Record.ExceptionAsync(() => Sender.SendAsync(message, cancelled.Token));

        Assert.True(error is OperationCanceledException, $"SendAsync with a cancelled token must throw OperationCanceledException; it {(error is null ? "returned" : "threw " + error.GetType().Name + ": " + error.Message)}.");
        Assert.True((await DeliveriesAsync()).Count == before, "SendAsync with a cancelled token must deliver nothing.");
    }

    /// <summary>Each of <see cref="BadConfigurations"/> is refused at start-up or when the senders are resolved, naming the setting.</summary>
    [Fact]
    public virtual async Task Bad_configuration_is_refused_with_a_message_naming_the_setting()
    {
        foreach (var (name, configure) in BadConfigurations)
        {
            await BadConfiguration.AssertRefusedAsync(
                name,
                configure,
                null,
                provider =>
                {
                    using var scope = provider.CreateScope();
                    _ = scope.ServiceProvider.GetServices<INotificationSender>().ToList();
                },
                "the senders");
        }
    }

    // ---- assertions ----

    private async Task<NotificationDelivery> AssertDeliveredOnceAsync(NotificationMessage message)
    {
        var key = DedupeKeyAsDelivered(message.DedupeKey);
        var deliveries = await DeliveriesAsync();
        var carrying = deliveries.Where(d => d.DedupeKey == key).ToList();
        Assert.True(
            carrying.Count == 1,
            carrying.Count == 0
                ? $"The receiver must see the message's dedupe key ({key}) so it can drop a second delivery; it saw {deliveries.Count} delivery(ies) with the keys [{string.Join(", ", deliveries.Select(d => d.DedupeKey))}]."
                : $"One SendAsync must be one delivery; the receiver saw {carrying.Count} with the dedupe key {key}.");
        var delivery = carrying[0];
        var recipient = ExpectedRecipient(message);
        Assert.True(delivery.Recipient == recipient, $"The delivery must go to the message's recipient ({recipient}); it went to {delivery.Recipient}.");
        Assert.True(delivery.Type == message.Type, $"The delivery must carry the message's type ({message.Type}); it carried {delivery.Type}.");
        return delivery;
    }

    private ProviderException AssertProviderException(Exception? error, string situation)
    {
        Assert.True(
            error is ProviderException,
            $"SendAsync with {situation} must throw ProviderException (the outbox retries or parks by its IsTransient); it {(error is null ? "returned as if sent" : "threw " + error.GetType().Name + ": " + error.Message)}.");
        var failure = (ProviderException)error!;
        Assert.False(string.IsNullOrWhiteSpace(failure.Provider), $"ProviderException.Provider must name the provider ({Sender.Channel}).");
        return failure;
    }

    private static string Collapse(string value) => string.Join(' ', value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
