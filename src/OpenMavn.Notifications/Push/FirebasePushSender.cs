using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using OpenMavn.Core.Notifications;
using OpenMavn.Notifications.Templates;

namespace OpenMavn.Notifications.Push;

/// <summary>
/// The <c>push</c> channel over Firebase Cloud Messaging HTTP v1: one <c>messages:send</c> per device token of the
/// recipient, title = the template's subject, body = its push text, <c>data</c> = the type and the ids of the
/// message (never codes or claim links). A token FCM reports as <c>UNREGISTERED</c>, or as an invalid registration
/// token (<c>INVALID_ARGUMENT</c> naming the token), is removed; an <c>INVALID_ARGUMENT</c> about the message itself
/// fails the message for good and keeps the tokens. 429/5xx and transport failures are retried by the outbox (honouring <c>Retry-After</c>); every send
/// carries a collapse key derived from the dedupe key, so a device that gets a retried message shows it once.
/// </summary>
public sealed partial class FirebasePushSender(
    IHttpClientFactory httpClients,
    IOptions<FirebasePushOptions> options,
    FirebaseAccessToken accessToken,
    IPushDevices devices,
    NotificationRenderer renderer,
    TimeProvider time,
    ILogger<FirebasePushSender> logger) : INotificationSender
{
    internal const string HttpClientName = "OpenMavn.Firebase";
    private const string Provider = "firebase";

    /// <inheritdoc />
    public string Channel => "push";

    /// <inheritdoc />
    public async Task<NotificationOutcome> SendAsync(NotificationMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Recipient.UserId is not { } userId)
        {
            return NotificationOutcome.Skipped;
        }

        var tokens = await devices.GetTokensAsync(userId, cancellationToken);
        if (tokens.Count == 0)
        {
            return NotificationOutcome.Skipped;
        }

        var rendered = renderer.Render(message);
        var bearer = await accessToken.GetAsync(cancellationToken);
        var settings = options.Value;
        var url = new Uri($"{settings.Endpoint.TrimEnd('/')}/v1/projects/{Uri.EscapeDataString(settings.ProjectId)}/messages:send");
        var client = httpClients.CreateClient(HttpClientName);

        var sent = 0;
        ProviderException? retry = null;
        foreach (var token in tokens)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = JsonContent.Create(Body(message, rendered, token)),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);

            HttpResponseMessage response;
            try
            {
                response = await client.SendAsync(request, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                retry ??= NotificationOptionsChecks.Transport(Provider, ex);
                continue;
            }

            using (response)
            {
                if (response.IsSuccessStatusCode)
                {
                    sent++;
                    continue;
                }

                var (status, errorCode, text, tokenField) = await ErrorAsync(response, cancellationToken);
                var code = (int)response.StatusCode;
                // INVALID_ARGUMENT also answers a malformed message; only a refusal that names the token removes it
                // (a payload bug must park the message, not wipe every customer's devices).
                var tokenRefused = errorCode == "UNREGISTERED" && code == 404
                    || errorCode == "INVALID_ARGUMENT" && code == 400 && (tokenField || text.Contains("registration token", StringComparison.OrdinalIgnoreCase));
                if (tokenRefused)
                {
                    await devices.RemoveTokenAsync(token, cancellationToken);
                    LogTokenRemoved(logger, message.Type, Fingerprint(token), errorCode!);
                    continue;
                }

                if (code == 401)
                {
                    // The cached access token was refused: the retry must fetch a new one, not present it again.
                    accessToken.Invalidate();
                }

                var transient = code is 401 or 408 or 429 || code >= 500;
                var failure = new ProviderException(
                    Provider,
                    $"messages:send answered {code} {status ?? ""}{(errorCode is null ? "" : $" ({errorCode})")}: {text}",
                    transient,
                    NotificationOptionsChecks.RetryAfter(response.Headers.RetryAfter, time));
                LogRefused(logger, message.Type, message.DedupeKey, code, errorCode ?? status ?? "", transient);
                if (!transient)
                {
                    // A project-level refusal (wrong project, sender id mismatch, quota exceeded for good): every
                    // token would get the same answer.
                    throw failure;
                }

                retry ??= failure;
            }
        }

        if (retry is not null)
        {
            throw retry;
        }

        LogSent(logger, message.Type, rendered.Language, sent, message.DedupeKey);
        return sent > 0 ? NotificationOutcome.Sent : NotificationOutcome.Skipped;
    }

    internal static JsonObject Body(NotificationMessage message, RenderedNotification rendered, string token)
    {
        var collapseKey = CollapseKey(message.DedupeKey);
        var data = new JsonObject { ["type"] = message.Type };
        foreach (var (key, value) in message.Model)
        {
            // Ids only: the model also holds voucher codes and claim links, which are bearer secrets and must not
            // sit in a push payload that lock screens and OS logs can show.
            if (key.EndsWith("Id", StringComparison.Ordinal) && value.Length > 0)
            {
                data[key] = value;
            }
        }

        return new JsonObject
        {
            ["message"] = new JsonObject
            {
                ["token"] = token,
                ["notification"] = new JsonObject { ["title"] = rendered.Subject, ["body"] = rendered.PushBody },
                ["data"] = data,
                ["android"] = new JsonObject { ["collapse_key"] = collapseKey },
                ["apns"] = new JsonObject { ["headers"] = new JsonObject { ["apns-collapse-id"] = collapseKey } },
                ["webpush"] = new JsonObject { ["headers"] = new JsonObject { ["Topic"] = collapseKey } },
            },
        };
    }

    /// <summary>32 URL-safe characters (fits APNs' 64-byte collapse id and Web Push's 32-character topic).</summary>
    internal static string CollapseKey(string dedupeKey) =>
        Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(dedupeKey)))[..32].Replace('+', '-').Replace('/', '_');

    private static string Fingerprint(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)))[..12];

    private static async Task<(string? Status, string? ErrorCode, string Message, bool TokenField)> ErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            using var json = JsonDocument.Parse(body);
            if (!json.RootElement.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Object)
            {
                return (null, null, "", false);
            }

            var status = error.TryGetProperty("status", out var s) ? s.GetString() : null;
            var text = error.TryGetProperty("message", out var m) ? m.GetString() ?? "" : "";
            string? errorCode = null;
            var tokenField = false;
            if (error.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Array)
            {
                var objects = details.EnumerateArray().Where(d => d.ValueKind == JsonValueKind.Object).ToList();
                errorCode = objects
                    .Where(d => d.TryGetProperty("errorCode", out _))
                    .Select(d => d.GetProperty("errorCode").GetString())
                    .FirstOrDefault();

                // google.rpc.BadRequest: {"fieldViolations":[{"field":"message.token", ...}]}
                tokenField = objects
                    .Where(d => d.TryGetProperty("fieldViolations", out var v) && v.ValueKind == JsonValueKind.Array)
                    .SelectMany(d => d.GetProperty("fieldViolations").EnumerateArray())
                    .Any(v => v.ValueKind == JsonValueKind.Object && v.TryGetProperty("field", out var f) && f.GetString() == "message.token");
            }

            return (status, errorCode, text.Length > 300 ? text[..300] : text, tokenField);
        }
        catch (JsonException)
        {
            return (null, null, "", false);
        }
    }

    [LoggerMessage(EventId = 7201, Level = LogLevel.Information, Message = "Push {Type} ({Language}) sent to {Devices} device(s) (dedupe key {DedupeKey})")]
    private static partial void LogSent(ILogger logger, string type, string language, int devices, string dedupeKey);

    [LoggerMessage(EventId = 7202, Level = LogLevel.Information, Message = "Push {Type}: device token {TokenFingerprint} removed ({ErrorCode})")]
    private static partial void LogTokenRemoved(ILogger logger, string type, string tokenFingerprint, string errorCode);

    [LoggerMessage(EventId = 7203, Level = LogLevel.Warning, Message = "FCM refused push {Type} (dedupe key {DedupeKey}) with {Status} {Error}; transient: {Transient}")]
    private static partial void LogRefused(ILogger logger, string type, string dedupeKey, int status, string error, bool transient);
}
