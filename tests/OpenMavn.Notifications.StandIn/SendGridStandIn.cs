using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace OpenMavn.Notifications.StandIn;

/// <summary>
/// A local stand-in for SendGrid's v3 Mail Send endpoint (<c>POST /v3/mail/send</c>, http://127.0.0.1 on a free
/// port) that enforces its contract: the bearer API key, <c>application/json</c>, and the body rules SendGrid
/// validates (personalizations, from, subject, content order, attachments). Accepted mails are answered 202 with
/// an <c>X-Message-Id</c> and recorded as <see cref="SentMail"/>s; every request lands in <see cref="Requests"/>.
/// </summary>
public sealed class SendGridStandIn : IAsyncDisposable
{
    /// <summary>The only path served.</summary>
    public const string MailSendPath = "/v3/mail/send";

    /// <summary>The message SendGrid answers (401) for a missing or wrong API key.</summary>
    public const string InvalidKeyMessage = "The provided authorization grant is invalid, expired, or revoked";

    private const string Json = "application/json";

    private readonly object _gate = new();
    private readonly List<SentMail> _mails = [];
    private LoopbackServer? _server;

    private SendGridStandIn(string apiKey)
    {
        ApiKey = apiKey;
    }

    /// <summary>Where the stand-in listens, with a trailing slash (e.g. <c>http://127.0.0.1:54321/</c>).</summary>
    public Uri BaseUrl => Server.BaseUrl;

    /// <summary>The API key a request must carry as <c>Authorization: Bearer {key}</c>.</summary>
    public string ApiKey { get; }

    /// <summary>While true, every request is answered 503 (no mail is recorded); the failure queue is left alone.</summary>
    public bool Down
    {
        get => Server.Down;
        set => Server.Down = value;
    }

    /// <summary>Every request received so far, oldest first, with the status answered (a copy).</summary>
    public IReadOnlyList<RecordedRequest> Requests => Server.Requests;

    /// <summary>Every mail accepted so far, oldest first (a copy); one per personalization of a request.</summary>
    public IReadOnlyList<SentMail> Mails
    {
        get { lock (_gate) { return [.. _mails]; } }
    }

    private LoopbackServer Server => _server ?? throw new InvalidOperationException("The stand-in is not started.");

    /// <summary>Starts a stand-in on http://127.0.0.1 with a free port that accepts <paramref name="apiKey"/>.</summary>
    public static async Task<SendGridStandIn> StartAsync(string apiKey, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        var standIn = new SendGridStandIn(apiKey);
        standIn._server = await LoopbackServer.StartAsync(
            standIn._gate,
            standIn.HandleAsync,
            context => WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "Service Unavailable", null),
            cancellationToken);
        return standIn;
    }

    /// <summary>Forgets the recorded mails.</summary>
    public void ClearMails()
    {
        lock (_gate)
        {
            _mails.Clear();
        }
    }

    /// <summary>Forgets the recorded requests.</summary>
    public void ClearRequests() => Server.ClearRequests();

    /// <summary>
    /// The next request (whatever it is, before authentication and validation) is answered with
    /// <paramref name="statusCode"/> and SendGrid's error body, plus <c>Retry-After</c> (whole seconds, rounded up)
    /// when <paramref name="retryAfter"/> is given. No mail is recorded. Calls queue up.
    /// </summary>
    public void FailNext(int statusCode, TimeSpan? retryAfter = null)
    {
        if (statusCode is < 400 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "An injected failure is a 4xx or 5xx status.");
        }

        Server.Enqueue(null, context =>
        {
            if (retryAfter is { } delay)
            {
                context.Response.Headers.RetryAfter = LoopbackServer.RetryAfter(delay);
            }

            return WriteErrorAsync(context, statusCode, ReasonFor(statusCode), null);
        });
    }

    /// <summary>
    /// The next request (whatever it is) is answered by <paramref name="respond"/>: a delay (honour
    /// <c>context.RequestAborted</c>), a dropped connection (<c>context.Abort()</c>), a malformed answer. No mail
    /// is recorded. Calls queue up.
    /// </summary>
    public void FailNextWith(Func<HttpContext, Task> respond) => Server.Enqueue(null, respond);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context, string body)
    {
        var request = context.Request;
        if (request.Path.Value != MailSendPath)
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, "resource not found", null);
            return;
        }

        if (request.Method != HttpMethods.Post)
        {
            context.Response.Headers.Allow = HttpMethods.Post;
            await WriteErrorAsync(context, StatusCodes.Status405MethodNotAllowed, "method not allowed", null);
            return;
        }

        if (!HasKey(request.Headers.Authorization.ToString()))
        {
            await WriteErrorAsync(context, StatusCodes.Status401Unauthorized, InvalidKeyMessage, null);
            return;
        }

        if (!IsJson(request.ContentType))
        {
            await WriteErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, "Content-Type should be application/json.", null);
            return;
        }

        var messageId = Base64Url.Encode(RandomNumberGenerator.GetBytes(16));
        var (mails, errors) = SendGridMailValidator.Read(body, messageId);
        if (errors.Count > 0)
        {
            await WriteErrorsAsync(context, StatusCodes.Status400BadRequest, errors);
            return;
        }

        lock (_gate)
        {
            _mails.AddRange(mails);
        }

        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.Headers["X-Message-Id"] = messageId;
    }

    private bool HasKey(string authorization)
    {
        const string scheme = "Bearer ";
        if (!authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var sent = Encoding.UTF8.GetBytes(authorization[scheme.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(sent, Encoding.UTF8.GetBytes(ApiKey));
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null
        && contentType.Split(';', 2)[0].Trim().Equals(Json, StringComparison.OrdinalIgnoreCase);

    private static Task WriteErrorAsync(HttpContext context, int statusCode, string message, string? field) =>
        WriteErrorsAsync(context, statusCode, [(message, field)]);

    private static async Task WriteErrorsAsync(HttpContext context, int statusCode, IEnumerable<(string Message, string? Field)> errors)
    {
        var body = new JsonObject
        {
            ["errors"] = new JsonArray([.. errors.Select(e => (JsonNode)new JsonObject
            {
                ["message"] = e.Message,
                ["field"] = e.Field,
                ["help"] = null,
            })]),
        };
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = Json;
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private static string ReasonFor(int statusCode) => statusCode switch
    {
        StatusCodes.Status401Unauthorized => InvalidKeyMessage,
        StatusCodes.Status403Forbidden => "access forbidden",
        StatusCodes.Status413PayloadTooLarge => "payload too large",
        StatusCodes.Status429TooManyRequests => "too many requests",
        StatusCodes.Status500InternalServerError => "internal server error",
        StatusCodes.Status502BadGateway => "bad gateway",
        StatusCodes.Status503ServiceUnavailable => "Service Unavailable",
        _ => "injected failure",
    };
}
