using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Notifications;
using OpenMavn.Notifications.Email;
using OpenMavn.Notifications.Push;
using OpenMavn.Notifications.StandIn;
using OpenMavn.Testing.Notifications;

namespace OpenMavn.Testing.Tests;

/// <summary>The built-in <c>log</c> channel; the receiver is the log (entry 7001 and its structured values).</summary>
public sealed class LoggingNotificationConformance : NotificationSenderConformanceTests
{
    private NotificationSenderHost? _host;

    // A log reaches everyone and cannot fail.
    protected override bool CanSkipRecipients => false;

    protected override bool CanFail => false;

    protected override async Task<INotificationSender> CreateSenderAsync()
    {
        _host = await NotificationSenderHost.StartAsync([], _ => { });
        var sender = NotificationSenderHost.SenderOf(_host.Services, "log");
        Assert.IsType<LoggingNotificationSender>(sender);
        return sender;
    }

    protected override Task<NotificationMessage> CreateMessageAsync(string dedupeKey, string text) =>
        Task.FromResult(new NotificationMessage(NotificationTypes.VoucherPurchased, new NotificationRecipient(Guid.NewGuid(), "anna@example.ch", "Anna Muster"), "en", NotificationModels.Purchased(text), dedupeKey));

    // The log names the user, not the address (template values and addresses stay out of logs).
    protected override string ExpectedRecipient(NotificationMessage message) => message.Recipient.UserId?.ToString() ?? "";

    protected override Task<IReadOnlyList<NotificationDelivery>> DeliveriesAsync() =>
        Task.FromResult<IReadOnlyList<NotificationDelivery>>(_host!.Logs.Entries
            .Where(e => e.Category == typeof(LoggingNotificationSender).FullName && e.EventId == 7001)
            .Select(e => new NotificationDelivery(e.Values["DedupeKey"] ?? "", e.Values["UserId"] ?? "", e.Values["Type"] ?? ""))
            .ToList());

    protected override async Task DisposeSenderAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }
}

/// <summary>The <c>email</c> channel over SendGrid, against the SendGrid stand-in (v3 Mail Send contract) on 127.0.0.1.</summary>
public sealed class SendGridNotificationConformance : NotificationSenderConformanceTests
{
    private readonly SendGridNotificationReceiver _receiver = new();

    protected override IEnumerable<(string Name, Action<IOpenMavnBuilder> Configure)> BadConfigurations => SendGridNotificationReceiver.BadConfigurations;

    protected override Task<INotificationSender> CreateSenderAsync() => _receiver.StartAsync();

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
}

/// <summary>
/// The <c>push</c> channel over Firebase Cloud Messaging, against the Google stand-in (OAuth2 JWT grant + FCM HTTP v1)
/// on 127.0.0.1, with device tokens in the OpenMavn database. The receiver sees the collapse key derived from the
/// dedupe key and the device token as recipient.
/// </summary>
public sealed class FirebaseNotificationConformance : NotificationSenderConformanceTests
{
    private readonly ConcurrentDictionary<Guid, string> _tokens = new();
    private GoogleStandIn? _google;
    private NotificationSenderHost? _host;
    private AsyncServiceScope _scope;

    protected override IEnumerable<(string Name, Action<IOpenMavnBuilder> Configure)> BadConfigurations =>
    [
        ("OpenMavn:Notifications:Firebase:ProjectId", b => b.AddFirebasePush(o => o.ServiceAccountJson = "{}")),
        ("ServiceAccountFile and ServiceAccountJson", b => b.AddFirebasePush(o => o.ProjectId = "p")),
        ("OpenMavn:Notifications:Firebase:ServiceAccountFile", b => b.AddFirebasePush(o => (o.ProjectId, o.ServiceAccountFile) = ("p", "/nonexistent/openmavn-key.json"))),
        ("OpenMavn:Notifications:Firebase:Endpoint", b => b.AddFirebasePush(o => (o.ProjectId, o.ServiceAccountJson, o.Endpoint) = ("p", "{}", "fcm.example.test"))),
        ("OpenMavn:Notifications:Firebase:RequestTimeout", b => b.AddFirebasePush(o => (o.ProjectId, o.ServiceAccountJson, o.RequestTimeout) = ("p", "{}", TimeSpan.Zero))),
    ];

    protected override async Task<INotificationSender> CreateSenderAsync()
    {
        _google = await GoogleStandIn.StartAsync("openmavn-conformance");
        var account = _google.CreateServiceAccount();
        _host = await NotificationSenderHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["OpenMavn:Notifications:Firebase:ProjectId"] = _google.ProjectId,
                ["OpenMavn:Notifications:Firebase:ServiceAccountJson"] = account.Json,
                ["OpenMavn:Notifications:Firebase:Endpoint"] = _google.BaseUrl.ToString(),
                ["OpenMavn:Notifications:Firebase:RequestTimeout"] = "00:00:10",
            },
            b => b.AddFirebasePush());

        // The push sender is scoped (it reads device tokens through the DbContext): one scope for the test.
        _scope = _host.Services.CreateAsyncScope();
        var sender = NotificationSenderHost.SenderOf(_scope.ServiceProvider, "push");
        Assert.IsType<FirebasePushSender>(sender);
        return sender;
    }

    protected override async Task<NotificationMessage> CreateMessageAsync(string dedupeKey, string text)
    {
        var token = "fcm-" + Guid.NewGuid().ToString("N") + ":APA91b" + Guid.NewGuid().ToString("N");
        _google!.RegisterDevice(token);
        var userId = await _host!.CreateCustomerAsync(token);
        _tokens[userId] = token;
        return Message(userId, dedupeKey, text);
    }

    // A customer without a registered device.
    protected override async Task<NotificationMessage> CreateUnreachableMessageAsync(string dedupeKey) =>
        Message(await _host!.CreateCustomerAsync(), dedupeKey, PlainText);

    protected override string DedupeKeyAsDelivered(string dedupeKey) => NotificationModels.CollapseKey(dedupeKey);

    protected override string ExpectedRecipient(NotificationMessage message) => _tokens[message.Recipient.UserId!.Value];

    protected override Task<IReadOnlyList<NotificationDelivery>> DeliveriesAsync() =>
        Task.FromResult<IReadOnlyList<NotificationDelivery>>(_google!.Messages
            .Select(m => new NotificationDelivery(m.AndroidCollapseKey ?? "", m.Token ?? "", m.Data.GetValueOrDefault("type") ?? "", m.Body))
            .ToList());

    protected override Task FailNextAsync(bool transient, TimeSpan? retryAfter = null)
    {
        // Only FCM fails: the OAuth token request before it goes through.
        _google!.FailNext(transient ? (retryAfter is null ? 503 : 429) : 403, retryAfter, GoogleStandIn.FcmPathPrefix);
        return Task.CompletedTask;
    }

    protected override async Task DisposeSenderAsync()
    {
        await _scope.DisposeAsync();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_google is not null)
        {
            await _google.DisposeAsync();
        }
    }

    private static NotificationMessage Message(Guid userId, string dedupeKey, string text) =>
        new(NotificationTypes.VoucherPurchased, new NotificationRecipient(userId, "anna@example.ch", "Anna Muster"), "en", NotificationModels.Purchased(text), dedupeKey);
}

/// <summary>The SendGrid stand-in and a host with the SendGrid sender pointed at it (shared by the conformance class and the Kit_catches tests).</summary>
internal sealed class SendGridNotificationReceiver : IAsyncDisposable
{
    private readonly string _apiKey = "SG.conformance-" + Guid.NewGuid().ToString("N");
    private SendGridStandIn? _sendGrid;
    private NotificationSenderHost? _host;

    public static IEnumerable<(string Name, Action<IOpenMavnBuilder> Configure)> BadConfigurations =>
    [
        ("OpenMavn:Notifications:SendGrid:ApiKey", b => b.AddSendGridEmail(o => o.FromEmail = "shop@example.ch")),
        ("OpenMavn:Notifications:SendGrid:FromEmail", b => b.AddSendGridEmail(o => (o.ApiKey, o.FromEmail) = ("SG.key", "not-an-address"))),
        ("OpenMavn:Notifications:SendGrid:Host", b => b.AddSendGridEmail(o => (o.ApiKey, o.FromEmail, o.Host) = ("SG.key", "shop@example.ch", "ftp://127.0.0.1"))),
        ("OpenMavn:Notifications:SendGrid:ReplyTo", b => b.AddSendGridEmail(o => (o.ApiKey, o.FromEmail, o.ReplyTo) = ("SG.key", "shop@example.ch", "help"))),
        ("OpenMavn:Notifications:SendGrid:RequestTimeout", b => b.AddSendGridEmail(o => (o.ApiKey, o.FromEmail, o.RequestTimeout) = ("SG.key", "shop@example.ch", TimeSpan.FromMinutes(10)))),
    ];

    public IReadOnlyList<NotificationDelivery> Deliveries => _sendGrid!.Mails
        .Select(m => new NotificationDelivery(
            m.CustomArgs.GetValueOrDefault("dedupe_key") ?? "",
            string.Join(", ", m.To.Select(t => t.Email)),
            m.CustomArgs.GetValueOrDefault("notification_type") ?? "",
            m.Text))
        .ToList();

    public static NotificationMessage Message(string dedupeKey, string text, string? email = "anna@example.ch") =>
        new(NotificationTypes.VoucherPurchased, new NotificationRecipient(Guid.NewGuid(), email, "Anna Muster"), "en", NotificationModels.Purchased(text), dedupeKey);

    public async Task<INotificationSender> StartAsync()
    {
        _sendGrid = await SendGridStandIn.StartAsync(_apiKey);
        _host = await NotificationSenderHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["OpenMavn:Notifications:SendGrid:ApiKey"] = _apiKey,
                ["OpenMavn:Notifications:SendGrid:FromEmail"] = "gutscheine@openmavn.example.ch",
                ["OpenMavn:Notifications:SendGrid:Host"] = _sendGrid.BaseUrl.ToString().TrimEnd('/'),
                ["OpenMavn:Notifications:SendGrid:RequestTimeout"] = "00:00:10",
            },
            b => b.AddSendGridEmail());
        var sender = NotificationSenderHost.SenderOf(_host.Services, "email");
        Assert.IsType<SendGridEmailSender>(sender);
        return sender;
    }

    /// <summary>Transient: 503 (429 when a wait is asked for); permanent: 403 (the key lacks the Mail Send permission).</summary>
    public void FailNext(bool transient, TimeSpan? retryAfter) =>
        _sendGrid!.FailNext(transient ? (retryAfter is null ? 503 : 429) : 403, retryAfter);

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_sendGrid is not null)
        {
            await _sendGrid.DisposeAsync();
        }
    }
}
