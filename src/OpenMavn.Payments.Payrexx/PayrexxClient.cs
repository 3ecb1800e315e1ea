using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using OpenMavn.Core.Payments;
using RestSharp;

namespace OpenMavn.Payments.Payrexx;

/// <summary>What Payrexx answered: the HTTP status and <c>data[0]</c> of a success envelope.</summary>
internal sealed record PayrexxResponse(HttpStatusCode StatusCode, JsonElement? Data);

/// <summary>
/// The Payrexx REST client: <c>{BaseUrl}/v{ApiVersion}/{Model}/{id}/{action}?instance={instance}</c>, authenticated with
/// <c>X-API-KEY</c> or <c>ApiSignature</c>, unwrapping the <c>{"status","data":[…]}</c> envelope. Only GET is retried
/// (transient failures, a short backoff): Payrexx has no idempotency, so a POST sent twice creates twice.
/// </summary>
internal sealed partial class PayrexxClient(IOptionsMonitor<PayrexxOptions> options, TimeProvider time, ILogger<PayrexxClient> logger) : IDisposable
{
    /// <summary>Activity source of this package.</summary>
    public static readonly ActivitySource ActivitySource = new("OpenMavn.Payments.Payrexx");

    private const string Provider = PayrexxPaymentProvider.ProviderName;
    private static readonly TimeSpan MaxRetryAfterWait = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<(string BaseUrl, TimeSpan Timeout), RestClient> _clients = new();

    /// <summary>Waits before the retries of a GET (two retries).</summary>
    internal TimeSpan[] GetRetryDelays { get; init; } = [TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(600)];

    public async Task<PayrexxResponse> SendAsync(
        PaymentAccountCredentials account,
        Method method,
        string model,
        string? id,
        string? action,
        IReadOnlyList<KeyValuePair<string, object?>> parameters,
        bool notFoundIsAnswer,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        if (string.IsNullOrWhiteSpace(account.AccountId))
        {
            throw new ProviderException(Provider, "The Payrexx instance name (account id) is required.", transient: false);
        }

        if (string.IsNullOrEmpty(account.Secret))
        {
            throw new ProviderException(Provider, "The Payrexx API secret is required.", transient: false);
        }

        var current = options.CurrentValue;
        var path = BuildPath(current.ApiVersion, model, id, action);
        var delays = method == Method.Get ? GetRetryDelays : [];
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await SendOnceAsync(current, account, method, path, parameters, notFoundIsAnswer, cancellationToken);
            }
            catch (ProviderException ex) when (ex.IsTransient && attempt < delays.Length && (ex.RetryAfter is null || ex.RetryAfter <= MaxRetryAfterWait))
            {
                var wait = ex.RetryAfter is { } after && after > delays[attempt] ? after : delays[attempt];
                LogRetrying(logger, method.ToString().ToUpperInvariant(), path, attempt + 1, wait.TotalMilliseconds, ex.Message);
                await Task.Delay(wait, time, cancellationToken);
            }
        }
    }

    internal static string BuildPath(string version, string model, string? id, string? action)
    {
        var path = $"v{version}/{model}/";
        if (!string.IsNullOrEmpty(id))
        {
            path += PhpQueryString.Encode(id, PhpQueryEncoding.Rfc3986) + "/";
        }

        return string.IsNullOrEmpty(action) ? path : path + action;
    }

    private async Task<PayrexxResponse> SendOnceAsync(
        PayrexxOptions current,
        PaymentAccountCredentials account,
        Method method,
        string path,
        IReadOnlyList<KeyValuePair<string, object?>> parameters,
        bool notFoundIsAnswer,
        CancellationToken cancellationToken)
    {
        var verb = method.ToString().ToUpperInvariant();
        using var activity = ActivitySource.StartActivity("payrexx " + verb, ActivityKind.Client);
        activity?.SetTag("http.request.method", verb);
        activity?.SetTag("url.path", path);

        var request = new RestRequest(path, method);
        request.AddQueryParameter("instance", PhpQueryString.Encode(account.AccountId), encode: false);
        var signature = current.AuthScheme == PayrexxAuthScheme.Signature
            ? PhpQueryString.Sign(PhpQueryString.Build(parameters), account.Secret)
            : null;
        if (signature is null)
        {
            request.AddHeader("X-API-KEY", account.Secret);
        }

        if (method == Method.Get)
        {
            foreach (var pair in QueryPairs(parameters))
            {
                request.AddQueryParameter(pair.Key, pair.Value, encode: false);
            }

            if (signature is not null)
            {
                request.AddQueryParameter("ApiSignature", PhpQueryString.Encode(signature), encode: false);
            }
        }
        else
        {
            var body = PhpQueryString.Build(parameters, PhpQueryEncoding.Rfc3986);
            if (signature is not null)
            {
                body += (body.Length > 0 ? "&" : "") + "ApiSignature=" + PhpQueryString.Encode(signature, PhpQueryEncoding.Rfc3986);
            }

            if (body.Length > 0)
            {
                request.AddStringBody(body, ContentType.FormUrlEncoded);
            }
        }

        var client = _clients.GetOrAdd((current.BaseUrl, current.RequestTimeout), key => new RestClient(new RestClientOptions(key.BaseUrl)
        {
            Timeout = key.Timeout,
            UserAgent = "OpenMavn.Payments.Payrexx",
            ThrowOnAnyError = false,
            FollowRedirects = false,
        }));

        var response = await client.ExecuteAsync(request, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        activity?.SetTag("http.response.status_code", (int)response.StatusCode);

        if (response.ResponseStatus == ResponseStatus.TimedOut
            || (response.StatusCode == 0 && response.ErrorException is TaskCanceledException or TimeoutException or OperationCanceledException))
        {
            LogFailed(logger, verb, path, account.AccountId, 0, "timeout");
            throw new ProviderException(Provider, string.Create(CultureInfo.InvariantCulture, $"{verb} /{path} did not answer within {current.RequestTimeout.TotalSeconds:0.#} s."), transient: true, innerException: response.ErrorException);
        }

        if (response.StatusCode == 0)
        {
            LogFailed(logger, verb, path, account.AccountId, 0, "unreachable");
            throw new ProviderException(Provider, $"{verb} /{path} could not reach Payrexx: {response.ErrorMessage}", transient: true, innerException: response.ErrorException);
        }

        var code = (int)response.StatusCode;
        var envelope = Envelope.Parse(response.Content);
        if (code is >= 200 and < 300 && envelope is { Status: "success" })
        {
            return new PayrexxResponse(response.StatusCode, envelope.Data);
        }

        if (code == 404 && notFoundIsAnswer)
        {
            return new PayrexxResponse(response.StatusCode, null);
        }

        var said = envelope is null
            ? "the answer is not a Payrexx envelope"
            : string.Join(": ", new[] { envelope.Message, envelope.Reason }.Where(s => !string.IsNullOrWhiteSpace(s)).DefaultIfEmpty(envelope.Status ?? "no status"));
        LogFailed(logger, verb, path, account.AccountId, code, envelope?.Message ?? "no envelope");
        var message = string.Create(CultureInfo.InvariantCulture, $"{verb} /{path} answered {code}: {said}");
        if (code == 429)
        {
            throw new ProviderException(Provider, message, transient: true, RetryAfter(response));
        }

        // 2xx without a success envelope: an error envelope (versions before 1.15 answer 200) is final; a body
        // that is not Payrexx's at all (a proxy's page) may pass.
        var transient = code >= 500 || code == 408 || (code is >= 200 and < 300 && envelope is null);
        throw new ProviderException(Provider, message, transient);
    }

    private static IEnumerable<KeyValuePair<string, string>> QueryPairs(IReadOnlyList<KeyValuePair<string, object?>> parameters)
    {
        var query = PhpQueryString.Build(parameters);
        if (query.Length == 0)
        {
            yield break;
        }

        foreach (var pair in query.Split('&'))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            yield return new(pair[..equals], pair[(equals + 1)..]);
        }
    }

    private TimeSpan? RetryAfter(RestResponse response)
    {
        var value = response.Headers?.FirstOrDefault(h => string.Equals(h.Name, "Retry-After", StringComparison.OrdinalIgnoreCase))?.Value?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? (at - time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero)
            : null;
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        _clients.Clear();
    }

    // The secret is never an argument of a log message.
    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Payrexx {Method} /{Path} for instance {Instance} failed with {StatusCode}: {Reason}")]
    private static partial void LogFailed(ILogger logger, string method, string path, string instance, int statusCode, string reason);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Retrying Payrexx {Method} /{Path} (retry {Retry}) in {DelayMs} ms after: {Error}")]
    private static partial void LogRetrying(ILogger logger, string method, string path, int retry, double delayMs, string error);

    private sealed record Envelope(string? Status, string? Message, string? Reason, JsonElement? Data)
    {
        public static Envelope? Parse(string? content)
        {
            if (string.IsNullOrWhiteSpace(content))
            {
                return null;
            }

            try
            {
                using var document = JsonDocument.Parse(content);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    return null;
                }

                JsonElement? data = null;
                if (root.TryGetProperty("data", out var d))
                {
                    if (d.ValueKind == JsonValueKind.Array && d.GetArrayLength() > 0)
                    {
                        data = d[0].Clone();
                    }
                    else if (d.ValueKind == JsonValueKind.Object)
                    {
                        data = d.Clone();
                    }
                }

                return new Envelope(Text(root, "status"), Text(root, "message"), Text(root, "reason"), data);
            }
            catch (JsonException)
            {
                return null;
            }
        }

        private static string? Text(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                _ => value.GetRawText(),
            }
            : null;
    }
}
