using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpenMavn.Notifications.StandIn.Tests;

/// <summary>Builds service-account assertions by hand, so each claim can be made wrong on purpose.</summary>
internal static class Jwt
{
    public const string Scope = "https://www.googleapis.com/auth/firebase.messaging";

    /// <summary>The header and claims Google.Apis.Auth would send for <paramref name="account"/> at <paramref name="now"/>.</summary>
    public static (JsonObject Header, JsonObject Claims) Valid(ServiceAccount account, DateTimeOffset now)
    {
        var header = new JsonObject { ["alg"] = "RS256", ["typ"] = "JWT", ["kid"] = account.PrivateKeyId };
        var claims = new JsonObject
        {
            ["iss"] = account.ClientEmail,
            ["scope"] = Scope,
            ["aud"] = account.TokenUri.ToString(),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.ToUnixTimeSeconds() + 3600,
        };
        return (header, claims);
    }

    /// <summary>Signs with the account's own private key.</summary>
    public static string Sign(ServiceAccount account, JsonObject header, JsonObject claims)
    {
        using var rsa = RSA.Create();
        rsa.ImportFromPem(account.PrivateKeyPem);
        return Sign(rsa, header, claims);
    }

    public static string Sign(RSA key, JsonObject header, JsonObject claims)
    {
        var signingInput = Encode(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Encode(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Encode(signature);
    }

    public static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>POSTs the JWT-bearer grant with <paramref name="assertion"/> to the stand-in's token endpoint.</summary>
    public static Task<HttpResponseMessage> RequestTokenAsync(HttpClient http, GoogleStandIn google, string assertion) =>
        http.PostAsync(google.TokenUrl, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:jwt-bearer",
            ["assertion"] = assertion,
        }));

    /// <summary>Gets an access token with a valid assertion (the stand-in's clock is <paramref name="now"/>).</summary>
    public static async Task<string> AccessTokenAsync(HttpClient http, GoogleStandIn google, ServiceAccount account, DateTimeOffset now)
    {
        var (header, claims) = Valid(account, now);
        using var response = await RequestTokenAsync(http, google, Sign(account, header, claims));
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("access_token").GetString()!;
    }
}
