using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace OpenMavn.Notifications.StandIn;

/// <summary>
/// A local stand-in for the two Google services a push sender talks to (http://127.0.0.1 on a free port):
/// the OAuth2 token endpoint (<c>POST /token</c>, the JWT-bearer grant that Google.Apis.Auth's
/// <c>ServiceAccountCredential</c> uses) and FCM HTTP v1 (<c>POST /v1/projects/{projectId}/messages:send</c>).
/// Service accounts come from <see cref="CreateServiceAccount"/>; devices are made known with
/// <see cref="RegisterDevice"/> and forgotten with <see cref="UnregisterDevice"/>.
/// </summary>
public sealed class GoogleStandIn : IAsyncDisposable
{
    /// <summary>The token endpoint's path (<c>token_uri</c> is <c>{BaseUrl}token</c>).</summary>
    public const string TokenPath = "/token";

    /// <summary>The prefix of every FCM path (for <see cref="FailNext"/>'s <c>path</c>).</summary>
    public const string FcmPathPrefix = "/v1/";

    /// <summary>The scope an assertion must ask for.</summary>
    public const string FirebaseMessagingScope = GoogleAssertion.FirebaseMessagingScope;

    /// <summary>How long an issued access token is accepted (<c>expires_in</c>).</summary>
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(1);

    private const string Json = "application/json; charset=utf-8";
    private const string JwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    private const string FcmErrorType = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
    private const string BadRequestType = "type.googleapis.com/google.rpc.BadRequest";
    private const string UnauthenticatedMessage = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, GoogleAssertion.TrustedKey> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IssuedToken> _tokens = new(StringComparer.Ordinal);
    private readonly List<IssuedToken> _issued = [];
    private readonly Dictionary<string, bool> _devices = new(StringComparer.Ordinal);
    private readonly List<PushMessage> _messages = [];
    private LoopbackServer? _server;

    private GoogleStandIn(string projectId, TimeProvider time)
    {
        ProjectId = projectId;
        _time = time;
    }

    /// <summary>Where the stand-in listens, with a trailing slash (e.g. <c>http://127.0.0.1:54321/</c>).</summary>
    public Uri BaseUrl => Server.BaseUrl;

    /// <summary>The token endpoint: <c>{BaseUrl}token</c>.</summary>
    public Uri TokenUrl => new(BaseUrl, "token");

    /// <summary>The Firebase project whose <c>messages:send</c> is served; other projects answer 404.</summary>
    public string ProjectId { get; }

    /// <summary>While true, every request (token and FCM) is answered 503 UNAVAILABLE; the failure queue is left alone.</summary>
    public bool Down
    {
        get => Server.Down;
        set => Server.Down = value;
    }

    /// <summary>Every request received so far, oldest first, with the status answered (a copy).</summary>
    public IReadOnlyList<RecordedRequest> Requests => Server.Requests;

    /// <summary>How many requests reached the token endpoint (whatever the answer, injected failures included).</summary>
    public int TokenRequests => Requests.Count(r => r.Path == TokenPath);

    /// <summary>Every access token issued so far, oldest first (a copy).</summary>
    public IReadOnlyList<IssuedToken> IssuedTokens
    {
        get { lock (_gate) { return [.. _issued]; } }
    }

    /// <summary>Every message accepted so far, oldest first (a copy).</summary>
    public IReadOnlyList<PushMessage> Messages
    {
        get { lock (_gate) { return [.. _messages]; } }
    }

    private LoopbackServer Server => _server ?? throw new InvalidOperationException("The stand-in is not started.");

    /// <summary>
    /// Starts a stand-in on http://127.0.0.1 with a free port serving FCM for <paramref name="projectId"/>.
    /// <paramref name="timeProvider"/> is the clock for JWT lifetimes and token expiry (the system clock when null).
    /// </summary>
    public static async Task<GoogleStandIn> StartAsync(string projectId = "openmavn-test", TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(projectId);
        var standIn = new GoogleStandIn(projectId, timeProvider ?? TimeProvider.System);
        standIn._server = await LoopbackServer.StartAsync(
            standIn._gate,
            standIn.HandleAsync,
            context => WriteFailureAsync(context, StatusCodes.Status503ServiceUnavailable, "The service is currently unavailable."),
            cancellationToken);
        return standIn;
    }

    /// <summary>
    /// Creates a service account of <see cref="ProjectId"/> with a fresh RSA key, trusts its public key, and
    /// returns its key file (<see cref="ServiceAccount.Json"/>) with <c>token_uri</c> = <see cref="TokenUrl"/>.
    /// </summary>
    public ServiceAccount CreateServiceAccount()
    {
        using var rsa = RSA.Create(2048);
        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        var name = "openmavn-push-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var clientEmail = $"{name}@{ProjectId}.iam.gserviceaccount.com";
        var clientId = "1" + string.Concat(Enumerable.Range(0, 20).Select(_ => RandomNumberGenerator.GetInt32(10).ToString(CultureInfo.InvariantCulture)));
        var pem = rsa.ExportPkcs8PrivateKeyPem() + "\n";
        var json = new JsonObject
        {
            ["type"] = "service_account",
            ["project_id"] = ProjectId,
            ["private_key_id"] = keyId,
            ["private_key"] = pem,
            ["client_email"] = clientEmail,
            ["client_id"] = clientId,
            // Nothing may leave 127.0.0.1, so even the URIs a service account never calls point at the stand-in.
            ["auth_uri"] = new Uri(BaseUrl, "o/oauth2/auth").ToString(),
            ["token_uri"] = TokenUrl.ToString(),
            ["auth_provider_x509_cert_url"] = new Uri(BaseUrl, "oauth2/v1/certs").ToString(),
            ["client_x509_cert_url"] = new Uri(BaseUrl, $"robot/v1/metadata/x509/{Uri.EscapeDataString(clientEmail)}").ToString(),
            ["universe_domain"] = "googleapis.com",
        };
        lock (_gate)
        {
            _accounts[clientEmail] = new GoogleAssertion.TrustedKey(keyId, rsa.ExportSubjectPublicKeyInfo());
        }

        return new ServiceAccount(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), ProjectId, clientEmail, clientId, keyId, pem, TokenUrl);
    }

    /// <summary>The account's key is no longer trusted: its assertions are refused with <c>invalid_grant</c> (tokens already issued stay valid).</summary>
    public void RevokeServiceAccount(string clientEmail)
    {
        lock (_gate)
        {
            _accounts.Remove(clientEmail);
        }
    }

    /// <summary>Every access token issued so far stops being accepted (FCM answers 401), as after a key rotation.</summary>
    public void RevokeAccessTokens()
    {
        lock (_gate)
        {
            _tokens.Clear();
        }
    }

    /// <summary>Makes <paramref name="token"/> a valid registration token: sends to it succeed.</summary>
    public void RegisterDevice(string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        lock (_gate)
        {
            _devices[token] = true;
        }
    }

    /// <summary>The app was uninstalled: sends to <paramref name="token"/> answer 404 NOT_FOUND with errorCode UNREGISTERED.</summary>
    public void UnregisterDevice(string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        lock (_gate)
        {
            _devices[token] = false;
        }
    }

    /// <summary>Forgets the recorded messages.</summary>
    public void ClearMessages()
    {
        lock (_gate)
        {
            _messages.Clear();
        }
    }

    /// <summary>Forgets the recorded requests (and so resets <see cref="TokenRequests"/>).</summary>
    public void ClearRequests() => Server.ClearRequests();

    /// <summary>
    /// The next request whose path starts with <paramref name="path"/> (any request when null; e.g.
    /// <see cref="TokenPath"/> or <see cref="FcmPathPrefix"/>) is answered with <paramref name="statusCode"/>, before
    /// authentication and validation. FCM paths get Google's error body (429 RESOURCE_EXHAUSTED with errorCode
    /// QUOTA_EXCEEDED, 500 INTERNAL, 503 UNAVAILABLE, …), the token path an OAuth error body; <c>Retry-After</c>
    /// (whole seconds, rounded up) when <paramref name="retryAfter"/> is given. Nothing is issued or recorded. Calls queue up.
    /// </summary>
    public void FailNext(int statusCode, TimeSpan? retryAfter = null, string? path = null)
    {
        if (statusCode is < 400 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "An injected failure is a 4xx or 5xx status.");
        }

        Server.Enqueue(path, context =>
        {
            if (retryAfter is { } delay)
            {
                context.Response.Headers.RetryAfter = LoopbackServer.RetryAfter(delay);
            }

            return WriteFailureAsync(context, statusCode, "Injected failure.");
        });
    }

    /// <summary>
    /// The next request whose path starts with <paramref name="path"/> (any request when null) is answered by
    /// <paramref name="respond"/>: a delay (honour <c>context.RequestAborted</c>), a dropped connection
    /// (<c>context.Abort()</c>), a malformed answer. Calls queue up.
    /// </summary>
    public void FailNextWith(Func<HttpContext, Task> respond, string? path = null) => Server.Enqueue(path, respond);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    // ---- HTTP ----

    private Task HandleAsync(HttpContext context, string body)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path == TokenPath)
        {
            return context.Request.Method == HttpMethods.Post
                ? IssueTokenAsync(context, body)
                : WriteOAuthErrorAsync(context, StatusCodes.Status405MethodNotAllowed, "invalid_request", "The token endpoint takes POST only.");
        }

        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments is ["v1", "projects", var projectId, "messages:send"] && context.Request.Method == HttpMethods.Post)
        {
            return SendAsync(context, Uri.UnescapeDataString(projectId), body);
        }

        return WriteGoogleErrorAsync(context, StatusCodes.Status404NotFound, "NOT_FOUND", $"The requested URL {path} was not found on this server.", null);
    }

    private async Task IssueTokenAsync(HttpContext context, string body)
    {
        if (!IsMediaType(context.Request.ContentType, "application/x-www-form-urlencoded"))
        {
            await WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "The body must be application/x-www-form-urlencoded.");
            return;
        }

        var form = QueryHelpers.ParseQuery(body);
        var grantType = form.TryGetValue("grant_type", out var g) ? g.ToString() : "";
        var assertion = form.TryGetValue("assertion", out var a) ? a.ToString() : "";
        if (grantType.Length == 0)
        {
            await WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "Missing required parameter: grant_type");
            return;
        }

        if (grantType != JwtBearer)
        {
            await WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, "unsupported_grant_type", $"Invalid grant_type: {grantType}");
            return;
        }

        if (assertion.Length == 0)
        {
            await WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "Missing required parameter: assertion");
            return;
        }

        var now = _time.GetUtcNow();
        IssuedToken? issued = null;
        GoogleAssertion.Result result;
        lock (_gate)
        {
            result = GoogleAssertion.Verify(assertion, email => _accounts.GetValueOrDefault(email), TokenUrl.ToString(), now);
            if (result.Error is null)
            {
                issued = new IssuedToken("ya29.standin-" + Base64Url.Encode(RandomNumberGenerator.GetBytes(32)), result.ClientEmail!, result.Scopes, now, now + TokenLifetime);
                _tokens[issued.AccessToken] = issued;
                _issued.Add(issued);
            }
        }

        if (issued is null)
        {
            await WriteOAuthErrorAsync(context, StatusCodes.Status400BadRequest, result.Error!, result.Description!);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = Json;
        context.Response.Headers.CacheControl = "no-cache, no-store, max-age=0, must-revalidate";
        var answer = new JsonObject
        {
            ["access_token"] = issued.AccessToken,
            ["expires_in"] = (long)TokenLifetime.TotalSeconds,
            ["token_type"] = "Bearer",
        };
        await context.Response.WriteAsync(answer.ToJsonString(), context.RequestAborted);
    }

    private async Task SendAsync(HttpContext context, string projectId, string body)
    {
        if (!Authenticated(context.Request.Headers.Authorization.ToString()))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"";
            await WriteGoogleErrorAsync(context, StatusCodes.Status401Unauthorized, "UNAUTHENTICATED", UnauthenticatedMessage, null);
            return;
        }

        if (projectId != ProjectId)
        {
            await WriteGoogleErrorAsync(context, StatusCodes.Status404NotFound, "NOT_FOUND", "Requested entity was not found.", null);
            return;
        }

        if (!IsMediaType(context.Request.ContentType, "application/json"))
        {
            await WriteInvalidArgumentAsync(context, new FcmRequest.Violation("Invalid JSON payload received. The body must be application/json.", ""));
            return;
        }

        var (message, violation) = FcmRequest.Read(body);
        if (message is null)
        {
            await WriteInvalidArgumentAsync(context, violation!);
            return;
        }

        var name = $"projects/{ProjectId}/messages/" + (message.ValidateOnly
            ? "fake_message_id"
            : $"0:{_time.GetUtcNow().ToUnixTimeMilliseconds()}%{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}");
        bool? registered; // null: never registered; false: unregistered since
        lock (_gate)
        {
            registered = message.Token is { } token && _devices.TryGetValue(token, out var valid) ? valid : null;
            if (!message.ValidateOnly && (message.Token is null || registered == true))
            {
                _messages.Add(new PushMessage(name, message.Token, message.Topic, message.Condition, message.Title, message.Body, message.Image, message.Data, message.AndroidCollapseKey, message.ApnsCollapseId, message.RawJson));
            }
        }

        if (message.Token is not null && registered is null)
        {
            await WriteGoogleErrorAsync(context, StatusCodes.Status400BadRequest, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", FcmError("INVALID_ARGUMENT"));
            return;
        }

        if (registered == false)
        {
            await WriteGoogleErrorAsync(context, StatusCodes.Status404NotFound, "NOT_FOUND", "Requested entity was not found.", FcmError("UNREGISTERED"));
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = Json;
        await context.Response.WriteAsync(new JsonObject { ["name"] = name }.ToJsonString(), context.RequestAborted);
    }

    private bool Authenticated(string authorization)
    {
        const string scheme = "Bearer ";
        if (!authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var token = authorization[scheme.Length..].Trim();
        lock (_gate)
        {
            return _tokens.TryGetValue(token, out var issued)
                && issued.Scopes.Contains(FirebaseMessagingScope, StringComparer.Ordinal)
                && _time.GetUtcNow() < issued.ExpiresAt;
        }
    }

    private static bool IsMediaType(string? contentType, string expected) =>
        contentType is not null && contentType.Split(';', 2)[0].Trim().Equals(expected, StringComparison.OrdinalIgnoreCase);

    // ---- answers ----

    private static Task WriteFailureAsync(HttpContext context, int statusCode, string message)
    {
        if (context.Request.Path.Value == TokenPath)
        {
            var error = statusCode switch
            {
                StatusCodes.Status400BadRequest => "invalid_request",
                StatusCodes.Status401Unauthorized => "invalid_client",
                StatusCodes.Status429TooManyRequests => "rate_limit_exceeded",
                StatusCodes.Status503ServiceUnavailable => "temporarily_unavailable",
                _ => "server_error",
            };
            return WriteOAuthErrorAsync(context, statusCode, error, message);
        }

        var (status, errorCode) = statusCode switch
        {
            StatusCodes.Status400BadRequest => ("INVALID_ARGUMENT", "INVALID_ARGUMENT"),
            StatusCodes.Status401Unauthorized => ("UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR"),
            StatusCodes.Status403Forbidden => ("PERMISSION_DENIED", "SENDER_ID_MISMATCH"),
            StatusCodes.Status404NotFound => ("NOT_FOUND", "UNREGISTERED"),
            StatusCodes.Status429TooManyRequests => ("RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"),
            StatusCodes.Status500InternalServerError => ("INTERNAL", "INTERNAL"),
            StatusCodes.Status503ServiceUnavailable => ("UNAVAILABLE", "UNAVAILABLE"),
            StatusCodes.Status504GatewayTimeout => ("DEADLINE_EXCEEDED", (string?)null),
            _ => ("UNKNOWN", null),
        };
        return WriteGoogleErrorAsync(context, statusCode, status, message, errorCode is null ? null : FcmError(errorCode));
    }

    private static JsonArray FcmError(string errorCode) =>
        [new JsonObject { ["@type"] = FcmErrorType, ["errorCode"] = errorCode }];

    private static Task WriteInvalidArgumentAsync(HttpContext context, FcmRequest.Violation violation) =>
        WriteGoogleErrorAsync(context, StatusCodes.Status400BadRequest, "INVALID_ARGUMENT", violation.Message,
        [
            new JsonObject
            {
                ["@type"] = BadRequestType,
                ["fieldViolations"] = new JsonArray(new JsonObject { ["field"] = violation.Field, ["description"] = violation.Message }),
            },
            new JsonObject { ["@type"] = FcmErrorType, ["errorCode"] = "INVALID_ARGUMENT" },
        ]);

    private static async Task WriteGoogleErrorAsync(HttpContext context, int code, string status, string message, JsonArray? details)
    {
        var error = new JsonObject { ["code"] = code, ["message"] = message, ["status"] = status };
        if (details is not null)
        {
            error["details"] = details;
        }

        context.Response.StatusCode = code;
        context.Response.ContentType = Json;
        await context.Response.WriteAsync(new JsonObject { ["error"] = error }.ToJsonString(), context.RequestAborted);
    }

    private static async Task WriteOAuthErrorAsync(HttpContext context, int statusCode, string error, string description)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = Json;
        var body = new JsonObject { ["error"] = error, ["error_description"] = description };
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }
}
