using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using OpenMavn.Core.Notifications;
using OpenMavn.Notifications.Templates;
using SendGrid;
using SendGrid.Helpers.Mail;

namespace OpenMavn.Notifications.Email;

/// <summary>
/// The <c>email</c> channel over SendGrid's v3 Mail Send API: the message's template rendered as plain text + HTML
/// (voucher QR codes as inline images), the dedupe key in <c>custom_args</c>. 2xx → sent; 429 and 5xx → retried by
/// the outbox (honouring <c>Retry-After</c>); 401/403 (a bad key) and 400 (a refused message) → failed for good and
/// visible to admins. Messages without an email address are skipped.
/// </summary>
public sealed partial class SendGridEmailSender(
    IHttpClientFactory httpClients,
    IOptions<SendGridEmailOptions> options,
    NotificationRenderer renderer,
    TimeProvider time,
    ILogger<SendGridEmailSender> logger) : INotificationSender
{
    internal const string HttpClientName = "OpenMavn.SendGrid";
    private const string Provider = "sendgrid";

    /// <inheritdoc />
    public string Channel => "email";

    /// <inheritdoc />
    public async Task<NotificationOutcome> SendAsync(NotificationMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (string.IsNullOrWhiteSpace(message.Recipient.Email))
        {
            LogSkipped(logger, message.Type, message.DedupeKey);
            return NotificationOutcome.Skipped;
        }

        var rendered = renderer.Render(message);
        var mail = Build(message, rendered, options.Value);
        var settings = options.Value;
        var client = new SendGridClient(httpClients.CreateClient(HttpClientName), new SendGridClientOptions
        {
            ApiKey = settings.ApiKey,
            Host = string.IsNullOrEmpty(settings.Host) ? "https://api.sendgrid.com" : settings.Host.TrimEnd('/'),
        });

        Response response;
        try
        {
            response = await client.SendEmailAsync(mail, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw NotificationOptionsChecks.Transport(Provider, ex);
        }

        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            LogSent(logger, message.Type, rendered.Language, message.DedupeKey);
            return NotificationOutcome.Sent;
        }

        var detail = await ErrorsAsync(response, cancellationToken);
        var transient = status is 408 or 429 || status >= 500;
        var retryAfter = NotificationOptionsChecks.RetryAfter(response.Headers?.RetryAfter, time);
        LogRefused(logger, message.Type, message.DedupeKey, status, transient);
        throw new ProviderException(
            Provider,
            response.StatusCode switch
            {
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => $"the API key was refused ({status}): check OpenMavn:Notifications:SendGrid:ApiKey and its Mail Send permission. {detail}",
                _ => $"mail send answered {status}. {detail}",
            },
            transient,
            retryAfter);
    }

    internal static SendGridMessage Build(NotificationMessage message, RenderedNotification rendered, SendGridEmailOptions options)
    {
        var mail = new SendGridMessage();
        mail.SetFrom(new EmailAddress(options.FromEmail, options.FromName));
        if (options.ReplyTo is { Length: > 0 } replyTo)
        {
            mail.SetReplyTo(new EmailAddress(replyTo));
        }

        mail.AddTo(new EmailAddress(message.Recipient.Email, string.IsNullOrWhiteSpace(message.Recipient.Name) ? null : message.Recipient.Name));
        mail.SetSubject(rendered.Subject);
        mail.AddContent(MimeType.Text, rendered.Text);
        mail.AddContent(MimeType.Html, rendered.Html);
        foreach (var image in rendered.InlineImages)
        {
            mail.AddAttachment(new Attachment
            {
                Content = Convert.ToBase64String(image.Content.Span),
                Filename = image.FileName,
                Type = image.ContentType,
                Disposition = "inline",
                ContentId = image.ContentId,
            });
        }

        // custom_args come back in SendGrid's event webhook: the dedupe key ties a delivery to its outbox message.
        mail.AddCustomArg("dedupe_key", message.DedupeKey);
        mail.AddCustomArg("notification_type", message.Type);
        mail.AddCategory(message.Type);
        return mail;
    }

    private static async Task<string> ErrorsAsync(Response response, CancellationToken cancellationToken)
    {
        try
        {
            var body = await response.Body.ReadAsStringAsync(cancellationToken);
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
            {
                var messages = errors.EnumerateArray()
                    .Select(e => e.TryGetProperty("message", out var m) ? m.GetString() : null)
                    .Where(m => !string.IsNullOrEmpty(m))
                    .Take(5);
                return string.Join(" ", messages);
            }
        }
        catch (JsonException)
        {
        }

        return "";
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Email {Type} ({Language}) handed to SendGrid (dedupe key {DedupeKey})")]
    private static partial void LogSent(ILogger logger, string type, string language, string dedupeKey);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Debug, Message = "Email {Type} skipped: no address (dedupe key {DedupeKey})")]
    private static partial void LogSkipped(ILogger logger, string type, string dedupeKey);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Warning, Message = "SendGrid refused email {Type} (dedupe key {DedupeKey}) with {Status}; transient: {Transient}")]
    private static partial void LogRefused(ILogger logger, string type, string dedupeKey, int status, bool transient);
}
