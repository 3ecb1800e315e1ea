using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Apis.Auth.OAuth2;
using Microsoft.Extensions.Time.Testing;

namespace OpenMavn.Notifications.StandIn.Tests;

/// <summary>The token endpoint issues access tokens for valid service-account assertions only.</summary>
public sealed class GoogleTokenEndpointTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Now);
    private GoogleStandIn _google = null!;
    private ServiceAccount _account = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _google = await GoogleStandIn.StartAsync("blumenladen-push", _time);
        _account = _google.CreateServiceAccount();
        _http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _google.DisposeAsync();
    }

    [Fact]
    public void The_key_file_is_a_Google_service_account_key_pointing_at_the_stand_in()
    {
        using var json = JsonDocument.Parse(_account.Json);
        var root = json.RootElement;

        Assert.Equal("service_account", root.GetProperty("type").GetString());
        Assert.Equal("blumenladen-push", root.GetProperty("project_id").GetString());
        Assert.Equal(_account.PrivateKeyId, root.GetProperty("private_key_id").GetString());
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----\n", root.GetProperty("private_key").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("@blumenladen-push.iam.gserviceaccount.com", root.GetProperty("client_email").GetString(), StringComparison.Ordinal);
        Assert.Equal(_account.ClientId, root.GetProperty("client_id").GetString());
        Assert.Equal(new Uri(_google.BaseUrl, "token").ToString(), root.GetProperty("token_uri").GetString());
        foreach (var uri in new[] { "auth_uri", "token_uri", "auth_provider_x509_cert_url", "client_x509_cert_url" })
        {
            Assert.Equal("127.0.0.1", new Uri(root.GetProperty(uri).GetString()!).Host);
        }
    }

    [Fact]
    public async Task A_valid_assertion_gets_a_bearer_token_for_an_hour()
    {
        var (header, claims) = Jwt.Valid(_account, Now);

        using var response = await Jwt.RequestTokenAsync(_http, _google, Jwt.Sign(_account, header, claims));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(3600, json.RootElement.GetProperty("expires_in").GetInt32());
        Assert.Equal("Bearer", json.RootElement.GetProperty("token_type").GetString());
        var issued = Assert.Single(_google.IssuedTokens);
        Assert.Equal(json.RootElement.GetProperty("access_token").GetString(), issued.AccessToken);
        Assert.Equal((_account.ClientEmail, Now, Now.AddHours(1)), (issued.ClientEmail, issued.IssuedAt, issued.ExpiresAt));
        Assert.Equal([Jwt.Scope], issued.Scopes);
        Assert.Equal(1, _google.TokenRequests);
    }

    [Fact]
    public async Task Two_grants_give_two_different_tokens()
    {
        var first = await Jwt.AccessTokenAsync(_http, _google, _account, Now);
        var second = await Jwt.AccessTokenAsync(_http, _google, _account, Now);

        Assert.NotEqual(first, second);
        Assert.Equal(2, _google.TokenRequests);
    }

    public static TheoryData<string> Accepted => new()
    {
        "no typ",
        "no kid",
        "Google's own audience",
        "audience as an array",
        "several scopes",
        "issued four minutes ahead",
        "expired four minutes ago",
        "sub claim",
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public async Task Assertions_within_the_contract_are_accepted(string variant)
    {
        var (header, claims) = Jwt.Valid(_account, Now);
        switch (variant)
        {
            case "no typ": header.Remove("typ"); break;
            case "no kid": header.Remove("kid"); break;
            case "Google's own audience": claims["aud"] = "https://oauth2.googleapis.com/token"; break;
            case "audience as an array": claims["aud"] = new JsonArray("https://example.org/", _account.TokenUri.ToString()); break;
            case "several scopes": claims["scope"] = "https://www.googleapis.com/auth/cloud-platform " + Jwt.Scope; break;
            case "issued four minutes ahead": SetTimes(claims, Now.AddMinutes(4), Now.AddMinutes(64)); break;
            case "expired four minutes ago": SetTimes(claims, Now.AddMinutes(-64), Now.AddMinutes(-4)); break;
            case "sub claim": claims["sub"] = "someone@blumenladen.ch"; break;
            default: throw new ArgumentOutOfRangeException(nameof(variant), variant, null);
        }

        using var response = await Jwt.RequestTokenAsync(_http, _google, Jwt.Sign(_account, header, claims));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string, string> Refused => new()
    {
        { "signed with another key", "invalid_grant" },
        { "signature of another payload", "invalid_grant" },
        { "wrong audience", "invalid_grant" },
        { "no audience", "invalid_grant" },
        { "wrong scope", "invalid_scope" },
        { "no scope", "invalid_scope" },
        { "expired", "invalid_grant" },
        { "issued in the future", "invalid_grant" },
        { "longer than an hour", "invalid_grant" },
        { "exp before iat", "invalid_grant" },
        { "no iat", "invalid_grant" },
        { "no exp", "invalid_grant" },
        { "iat as a string", "invalid_grant" },
        { "unknown issuer", "invalid_grant" },
        { "no issuer", "invalid_grant" },
        { "alg HS256", "invalid_grant" },
        { "alg none", "invalid_grant" },
        { "typ not JWT", "invalid_grant" },
        { "kid of another key", "invalid_grant" },
        { "two parts", "invalid_grant" },
        { "not base64url", "invalid_grant" },
        { "header not JSON", "invalid_grant" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Assertions_outside_the_contract_are_400_and_issue_nothing(string variant, string error)
    {
        var (header, claims) = Jwt.Valid(_account, Now);
        string? assertion = null;
        switch (variant)
        {
            case "signed with another key":
                using (var other = RSA.Create(2048))
                {
                    assertion = Jwt.Sign(other, header, claims);
                }

                break;
            case "signature of another payload":
                var genuine = Jwt.Sign(_account, header, claims).Split('.');
                claims["exp"] = Now.ToUnixTimeSeconds() + 60;
                assertion = $"{genuine[0]}.{Jwt.Encode(Encoding.UTF8.GetBytes(claims.ToJsonString()))}.{genuine[2]}";
                break;
            case "wrong audience": claims["aud"] = "https://www.googleapis.com/oauth2/v4/token"; break;
            case "no audience": claims.Remove("aud"); break;
            case "wrong scope": claims["scope"] = "https://www.googleapis.com/auth/cloud-platform"; break;
            case "no scope": claims.Remove("scope"); break;
            case "expired": SetTimes(claims, Now.AddHours(-2), Now.AddHours(-1)); break;
            case "issued in the future": SetTimes(claims, Now.AddMinutes(6), Now.AddMinutes(66)); break;
            case "longer than an hour": SetTimes(claims, Now, Now.AddSeconds(3601)); break;
            case "exp before iat": SetTimes(claims, Now, Now.AddSeconds(-1)); break;
            case "no iat": claims.Remove("iat"); break;
            case "no exp": claims.Remove("exp"); break;
            case "iat as a string": claims["iat"] = Now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture); break;
            case "unknown issuer": claims["iss"] = "stranger@blumenladen-push.iam.gserviceaccount.com"; break;
            case "no issuer": claims.Remove("iss"); break;
            case "alg HS256": header["alg"] = "HS256"; break;
            case "alg none": header["alg"] = "none"; break;
            case "typ not JWT": header["typ"] = "JWS"; break;
            case "kid of another key": header["kid"] = new string('0', 40); break;
            case "two parts": assertion = string.Join('.', Jwt.Sign(_account, header, claims).Split('.')[0..2]); break;
            case "not base64url": assertion = Jwt.Sign(_account, header, claims).Replace('-', '+') + "=="; break;
            case "header not JSON":
                var signed = Jwt.Sign(_account, header, claims).Split('.');
                assertion = $"{Jwt.Encode(Encoding.UTF8.GetBytes("{not json"))}.{signed[1]}.{signed[2]}";
                break;
            default: throw new ArgumentOutOfRangeException(nameof(variant), variant, null);
        }

        using var response = await Jwt.RequestTokenAsync(_http, _google, assertion ?? Jwt.Sign(_account, header, claims));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var (code, description) = await OAuthErrorAsync(response);
        Assert.Equal(error, code);
        Assert.False(string.IsNullOrWhiteSpace(description));
        Assert.Empty(_google.IssuedTokens);
    }

    [Fact]
    public async Task A_revoked_service_account_gets_no_token()
    {
        _google.RevokeServiceAccount(_account.ClientEmail);
        var (header, claims) = Jwt.Valid(_account, Now);

        using var response = await Jwt.RequestTokenAsync(_http, _google, Jwt.Sign(_account, header, claims));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_grant", (await OAuthErrorAsync(response)).Error);
    }

    [Fact]
    public async Task The_clock_is_the_injected_TimeProvider()
    {
        var (header, claims) = Jwt.Valid(_account, Now);
        var assertion = Jwt.Sign(_account, header, claims);
        _time.Advance(TimeSpan.FromMinutes(64));
        using (var stillValid = await Jwt.RequestTokenAsync(_http, _google, assertion))
        {
            Assert.Equal(HttpStatusCode.OK, stillValid.StatusCode);
        }

        _time.Advance(TimeSpan.FromMinutes(2));
        using var expired = await Jwt.RequestTokenAsync(_http, _google, assertion);

        Assert.Equal(HttpStatusCode.BadRequest, expired.StatusCode);
    }

    [Theory]
    [InlineData("grant_type=client_credentials&assertion=x", "unsupported_grant_type")]
    [InlineData("assertion=x", "invalid_request")]
    [InlineData("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer", "invalid_request")]
    public async Task A_form_without_the_jwt_bearer_grant_and_its_assertion_is_400(string form, string error)
    {
        using var response = await _http.PostAsync(_google.TokenUrl, new StringContent(form, Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(error, (await OAuthErrorAsync(response)).Error);
    }

    [Fact]
    public async Task The_grant_sent_as_JSON_instead_of_a_form_is_400_and_GET_is_405()
    {
        var (header, claims) = Jwt.Valid(_account, Now);
        var body = new JsonObject { ["grant_type"] = "urn:ietf:params:oauth:grant-type:jwt-bearer", ["assertion"] = Jwt.Sign(_account, header, claims) };

        using var json = await _http.PostAsync(_google.TokenUrl, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        using var get = await _http.GetAsync(_google.TokenUrl);

        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        Assert.Equal("invalid_request", (await OAuthErrorAsync(json)).Error);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Empty(_google.IssuedTokens);
    }

    [Fact]
    public async Task FailNext_on_the_token_path_answers_an_OAuth_error_and_issues_nothing()
    {
        _google.FailNext(503, TimeSpan.FromSeconds(2), GoogleStandIn.TokenPath);
        var (header, claims) = Jwt.Valid(_account, Now);
        var assertion = Jwt.Sign(_account, header, claims);

        using var failed = await Jwt.RequestTokenAsync(_http, _google, assertion);
        using var next = await Jwt.RequestTokenAsync(_http, _google, assertion);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), failed.Headers.RetryAfter?.Delta);
        Assert.Equal("temporarily_unavailable", (await OAuthErrorAsync(failed)).Error);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Single(_google.IssuedTokens);
        Assert.Equal(2, _google.TokenRequests);
    }

    private static void SetTimes(JsonObject claims, DateTimeOffset issuedAt, DateTimeOffset expiresAt)
    {
        claims["iat"] = issuedAt.ToUnixTimeSeconds();
        claims["exp"] = expiresAt.ToUnixTimeSeconds();
    }

    private static async Task<(string Error, string? Description)> OAuthErrorAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (json.RootElement.GetProperty("error").GetString()!, json.RootElement.GetProperty("error_description").GetString());
    }
}

/// <summary>Google.Apis.Auth 1.78.0 itself gets tokens from the stand-in with the key file it made.</summary>
public sealed class GoogleApisAuthTests
{
    [Fact]
    public async Task ServiceAccountCredential_from_the_key_file_gets_a_token_from_the_stand_in_and_caches_it()
    {
        await using var google = await GoogleStandIn.StartAsync("blumenladen-push");
        var account = google.CreateServiceAccount();
        var credential = CredentialFactory.FromJson<ServiceAccountCredential>(account.Json)
            .ToGoogleCredential()
            .CreateScoped(GoogleStandIn.FirebaseMessagingScope);

        var token = await ((ITokenAccess)credential).GetAccessTokenForRequestAsync();
        var again = await ((ITokenAccess)credential).GetAccessTokenForRequestAsync();

        Assert.Equal(Assert.Single(google.IssuedTokens).AccessToken, token);
        Assert.Equal(token, again);
        Assert.Equal(1, google.TokenRequests);
        var request = Assert.Single(google.Requests);
        Assert.Equal(200, request.StatusCode);
        Assert.StartsWith("application/x-www-form-urlencoded", request.Headers["Content-Type"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_the_stand_in_does_not_trust_is_refused_to_Google_Apis_Auth_too()
    {
        await using var google = await GoogleStandIn.StartAsync("blumenladen-push");
        var account = google.CreateServiceAccount();
        google.RevokeServiceAccount(account.ClientEmail);
        var credential = CredentialFactory.FromJson<ServiceAccountCredential>(account.Json)
            .ToGoogleCredential()
            .CreateScoped(GoogleStandIn.FirebaseMessagingScope);

        var refused = await Assert.ThrowsAsync<Google.Apis.Auth.OAuth2.Responses.TokenResponseException>(
            () => ((ITokenAccess)credential).GetAccessTokenForRequestAsync());

        Assert.Equal("invalid_grant", refused.Error.Error);
        Assert.Empty(google.IssuedTokens);
    }
}
