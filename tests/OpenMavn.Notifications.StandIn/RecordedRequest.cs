namespace OpenMavn.Notifications.StandIn;

/// <summary>One request as a stand-in received it (every request: accepted, refused and injected-failure ones).</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="PathAndQuery">The path and the raw query string, as sent.</param>
/// <param name="Headers">Request headers (case-insensitive names; repeated headers joined with ", ").</param>
/// <param name="Body">The raw body as UTF-8 text ("" when none).</param>
/// <param name="StatusCode">The status code answered; null while no answer has started or when the connection was dropped.</param>
public sealed record RecordedRequest(
    string Method,
    string PathAndQuery,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    int? StatusCode)
{
    /// <summary>The path without the query string.</summary>
    public string Path => PathAndQuery.Split('?', 2)[0];
}
