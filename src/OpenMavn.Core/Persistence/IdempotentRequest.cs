namespace OpenMavn.Core.Persistence;

/// <summary>
/// A request made with an idempotency key, kept so that a replay gets the first answer and a reuse of the key with
/// another request is refused. Written by the HTTP layer; opaque to the domain.
/// </summary>
public sealed class IdempotentRequest
{
    /// <summary>Identifier.</summary>
    public long Id { get; set; }

    /// <summary>Who sent it (user or API key id) and where (the route), so keys of different callers never meet.</summary>
    public string Scope { get; set; } = "";

    /// <summary>The client's key.</summary>
    public string Key { get; set; } = "";

    /// <summary>SHA-256 of the method, path and body.</summary>
    public string RequestHash { get; set; } = "";

    /// <summary>The first response's status code, once it completed.</summary>
    public int? StatusCode { get; set; }

    /// <summary>The first response's JSON body.</summary>
    public string? ResponseBody { get; set; }

    /// <summary>When the request arrived.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When it completed.</summary>
    public DateTimeOffset? CompletedAt { get; set; }
}
