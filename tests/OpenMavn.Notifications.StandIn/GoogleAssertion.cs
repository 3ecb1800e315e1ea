using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace OpenMavn.Notifications.StandIn;

/// <summary>
/// Verifies a service-account JWT assertion (RFC 7523) as Google's token endpoint does: RS256 over
/// <c>header.payload</c> with the account's public key, <c>iss</c>, <c>aud</c>, <c>scope</c>, and a lifetime of at
/// most an hour that covers now (with five minutes of clock skew either way).
/// </summary>
internal static class GoogleAssertion
{
    public const string FirebaseMessagingScope = "https://www.googleapis.com/auth/firebase.messaging";
    public const string GoogleTokenUrl = "https://oauth2.googleapis.com/token";
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(1);
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private const string TimeframeMessage = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";

    /// <summary>A trusted service account's key.</summary>
    public sealed record TrustedKey(string KeyId, byte[] SubjectPublicKeyInfo);

    /// <summary>The outcome: the account and scopes, or the OAuth error and its description.</summary>
    public sealed record Result(string? ClientEmail, IReadOnlyList<string> Scopes, string? Error, string? Description)
    {
        public static Result Refused(string error, string description) => new(null, [], error, description);
    }

    public static Result Verify(string assertion, Func<string, TrustedKey?> findKey, string tokenUrl, DateTimeOffset now)
    {
        var parts = assertion.Split('.');
        if (parts.Length != 3)
        {
            return Result.Refused("invalid_grant", "Invalid JWT: the assertion is not header.payload.signature.");
        }

        var headerBytes = Base64Url.TryDecode(parts[0]);
        var payloadBytes = Base64Url.TryDecode(parts[1]);
        var signature = Base64Url.TryDecode(parts[2]);
        if (headerBytes is null || payloadBytes is null || signature is null)
        {
            return Result.Refused("invalid_grant", "Invalid JWT: a part is not base64url.");
        }

        JsonDocument header, payload;
        try
        {
            header = JsonDocument.Parse(headerBytes);
        }
        catch (JsonException)
        {
            return Result.Refused("invalid_grant", "Invalid JWT: the header is not JSON.");
        }

        using (header)
        {
            try
            {
                payload = JsonDocument.Parse(payloadBytes);
            }
            catch (JsonException)
            {
                return Result.Refused("invalid_grant", "Invalid JWT: the claim set is not JSON.");
            }

            using (payload)
            {
                return Verify(header.RootElement, payload.RootElement, Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, findKey, tokenUrl, now);
            }
        }
    }

    private static Result Verify(JsonElement header, JsonElement claims, byte[] signedBytes, byte[] signature, Func<string, TrustedKey?> findKey, string tokenUrl, DateTimeOffset now)
    {
        if (header.ValueKind != JsonValueKind.Object || claims.ValueKind != JsonValueKind.Object)
        {
            return Result.Refused("invalid_grant", "Invalid JWT: the header and the claim set must be JSON objects.");
        }

        if (String(header, "alg") != "RS256")
        {
            return Result.Refused("invalid_grant", "Invalid JWT: alg must be RS256.");
        }

        if (header.TryGetProperty("typ", out _) && String(header, "typ") != "JWT")
        {
            return Result.Refused("invalid_grant", "Invalid JWT: typ, when present, must be JWT.");
        }

        var issuer = String(claims, "iss");
        var key = issuer is null ? null : findKey(issuer);
        if (key is null)
        {
            return Result.Refused("invalid_grant", "Invalid grant: account not found");
        }

        if (header.TryGetProperty("kid", out _) && String(header, "kid") != key.KeyId)
        {
            return Result.Refused("invalid_grant", "Invalid JWT Signature.");
        }

        using (var rsa = RSA.Create())
        {
            rsa.ImportSubjectPublicKeyInfo(key.SubjectPublicKeyInfo, out _);
            if (!rsa.VerifyData(signedBytes, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
            {
                return Result.Refused("invalid_grant", "Invalid JWT Signature.");
            }
        }

        if (!Audiences(claims).Any(a => a == tokenUrl || a == GoogleTokenUrl))
        {
            return Result.Refused("invalid_grant", $"Invalid JWT: Failed audience check. The right audience is {tokenUrl}");
        }

        if (!Seconds(claims, "iat", out var issuedAt) || !Seconds(claims, "exp", out var expiresAt)
            || expiresAt <= issuedAt || expiresAt - issuedAt > MaxLifetime
            || issuedAt > now + ClockSkew || expiresAt < now - ClockSkew)
        {
            return Result.Refused("invalid_grant", TimeframeMessage);
        }

        var scopes = (String(claims, "scope") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (!scopes.Contains(FirebaseMessagingScope, StringComparer.Ordinal))
        {
            // Google answers a missing or unknown scope with invalid_scope rather than invalid_grant.
            return Result.Refused("invalid_scope", $"Invalid OAuth scope or ID token audience provided: the scope must include {FirebaseMessagingScope}.");
        }

        return new Result(issuer, scopes, null, null);
    }

    private static string? String(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static IEnumerable<string> Audiences(JsonElement claims)
    {
        if (!claims.TryGetProperty("aud", out var aud))
        {
            return [];
        }

        return aud.ValueKind switch
        {
            JsonValueKind.String => [aud.GetString()!],
            JsonValueKind.Array => [.. aud.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()!)],
            _ => [],
        };
    }

    private static bool Seconds(JsonElement claims, string name, out DateTimeOffset value)
    {
        value = default;
        if (!claims.TryGetProperty(name, out var json) || json.ValueKind != JsonValueKind.Number || !json.TryGetInt64(out var seconds)
            || seconds < 0 || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return false;
        }

        value = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }
}
