using OpenMavn.Core;

namespace OpenMavn.Notifications;

/// <summary>What the email and push senders check and answer alike.</summary>
internal static class NotificationOptionsChecks
{
    // On Linux "/x" parses as an absolute file:// URI: require http or https explicitly.
    public static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment);

    /// <summary>How long a 429/503 asked us to wait (seconds or an HTTP date), if it said.</summary>
    public static TimeSpan? RetryAfter(System.Net.Http.Headers.RetryConditionHeaderValue? header, TimeProvider time)
    {
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    public static ProviderException Transport(string provider, Exception ex) =>
        new(provider, ex is TaskCanceledException ? "no answer before the request timeout" : $"connection failed ({ex.GetType().Name}: {ex.Message})", transient: true, innerException: ex);
}
