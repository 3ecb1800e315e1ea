using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Apis.Auth.OAuth2;
using Microsoft.Extensions.Time.Testing;

namespace OpenMavn.Notifications.StandIn.Tests;

/// <summary>Drives FCM HTTP v1 <c>messages:send</c> of the Google stand-in to prove it enforces the contract.</summary>
public sealed class FcmStandInTests : IAsyncLifetime
{
    private const string Project = "blumenladen-push";
    private const string Device = "dXJ1-device-token:APA91bH_registered";

    private static readonly DateTimeOffset Now = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Now);
    private GoogleStandIn _google = null!;
    private ServiceAccount _account = null!;
    private HttpClient _http = null!;
    private string _accessToken = null!;

    public async Task InitializeAsync()
    {
        _google = await GoogleStandIn.StartAsync(Project, _time);
        _account = _google.CreateServiceAccount();
        _http = new HttpClient { BaseAddress = _google.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        _accessToken = await Jwt.AccessTokenAsync(_http, _google, _account, Now);
        _google.RegisterDevice(Device);
        _google.ClearRequests();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _google.DisposeAsync();
    }

    private static JsonObject ValidRequest() => new()
    {
        ["message"] = new JsonObject
        {
            ["token"] = Device,
            ["notification"] = new JsonObject { ["title"] = "Gutschein eingelöst", ["body"] = "CHF 20.00 von CHF 50.00", ["image"] = "https://blumenladen.ch/logo.png" },
            ["data"] = new JsonObject { ["voucher"] = "VOUCHER-000001", ["remaining"] = "3000" },
            ["android"] = new JsonObject { ["collapse_key"] = "voucher-1", ["priority"] = "HIGH", ["ttl"] = "3600s" },
            ["apns"] = new JsonObject
            {
                ["headers"] = new JsonObject { ["apns-collapse-id"] = "voucher-1", ["apns-priority"] = "10" },
                ["payload"] = new JsonObject { ["aps"] = new JsonObject { ["sound"] = "default" } },
            },
            ["webpush"] = new JsonObject { ["headers"] = new JsonObject { ["Urgency"] = "high" } },
        },
    };

    [Fact]
    public async Task A_valid_message_to_a_registered_device_is_200_with_its_name_and_is_recorded_typed()
    {
        using var response = await SendAsync(ValidRequest());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var name = json.RootElement.GetProperty("name").GetString()!;
        Assert.StartsWith($"projects/{Project}/messages/", name, StringComparison.Ordinal);

        var message = Assert.Single(_google.Messages);
        Assert.Equal(name, message.Name);
        Assert.Equal((Device, (string?)null, (string?)null), (message.Token, message.Topic, message.Condition));
        Assert.Equal(("Gutschein eingelöst", "CHF 20.00 von CHF 50.00", "https://blumenladen.ch/logo.png"), (message.Title, message.Body, message.Image));
        Assert.Equal(new Dictionary<string, string> { ["voucher"] = "VOUCHER-000001", ["remaining"] = "3000" }, message.Data);
        Assert.Equal(("voucher-1", "voucher-1"), (message.AndroidCollapseKey, message.ApnsCollapseId));
        Assert.Equal(Device, JsonNode.Parse(message.RawJson)!["token"]!.GetValue<string>());
    }

    [Fact]
    public async Task CamelCase_names_are_taken_like_snake_case()
    {
        var request = ValidRequest();
        var android = request["message"]!["android"]!.AsObject();
        android.Remove("collapse_key");
        android["collapseKey"] = "camel";
        request["validateOnly"] = false;

        using var response = await SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("camel", Assert.Single(_google.Messages).AndroidCollapseKey);
    }

    [Fact]
    public async Task Topic_and_condition_messages_are_accepted_and_recorded()
    {
        using var topic = await SendAsync(new JsonObject { ["message"] = new JsonObject { ["topic"] = "merchant-42", ["data"] = new JsonObject { ["k"] = "v" } } });
        using var condition = await SendAsync(new JsonObject { ["message"] = new JsonObject { ["condition"] = "'a' in topics && 'b' in topics" } });

        Assert.Equal(HttpStatusCode.OK, topic.StatusCode);
        Assert.Equal(HttpStatusCode.OK, condition.StatusCode);
        Assert.Equal([("merchant-42", null), (null, "'a' in topics && 'b' in topics")], _google.Messages.Select(m => (m.Topic, m.Condition)));
    }

    [Fact]
    public async Task Validate_only_answers_a_fake_name_and_records_no_message()
    {
        var request = ValidRequest();
        request["validate_only"] = true;

        using var response = await SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"{{\"name\":\"projects/{Project}/messages/fake_message_id\"}}", await response.Content.ReadAsStringAsync());
        Assert.Empty(_google.Messages);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer ya29.made-up")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task Without_an_issued_token_the_answer_is_401_UNAUTHENTICATED(string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/projects/{Project}/messages:send") { Content = Json(ValidRequest()) };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await _http.SendAsync(request);

        await AssertGoogleErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHENTICATED");
        Assert.Empty(_google.Messages);
    }

    [Fact]
    public async Task A_token_stops_working_when_it_expires_on_the_stand_ins_clock()
    {
        _time.Advance(TimeSpan.FromMinutes(59));
        using (var stillValid = await SendAsync(ValidRequest()))
        {
            Assert.Equal(HttpStatusCode.OK, stillValid.StatusCode);
        }

        _time.Advance(TimeSpan.FromMinutes(1));
        using var expired = await SendAsync(ValidRequest());

        await AssertGoogleErrorAsync(expired, HttpStatusCode.Unauthorized, "UNAUTHENTICATED");
        Assert.Single(_google.Messages);
    }

    [Fact]
    public async Task RevokeAccessTokens_makes_issued_tokens_401_until_a_new_one_is_fetched()
    {
        _google.RevokeAccessTokens();
        using var revoked = await SendAsync(ValidRequest());
        _accessToken = await Jwt.AccessTokenAsync(_http, _google, _account, Now);
        using var renewed = await SendAsync(ValidRequest());

        await AssertGoogleErrorAsync(revoked, HttpStatusCode.Unauthorized, "UNAUTHENTICATED");
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
    }

    [Fact]
    public async Task Another_project_is_404_NOT_FOUND_and_so_is_another_path()
    {
        using var project = await _http.SendAsync(Authorized(HttpMethod.Post, "v1/projects/someone-else/messages:send", Json(ValidRequest())));
        using var path = await _http.SendAsync(Authorized(HttpMethod.Post, $"v1/projects/{Project}/messages:batchSend", Json(ValidRequest())));
        using var get = await _http.SendAsync(Authorized(HttpMethod.Get, $"v1/projects/{Project}/messages:send", null));

        await AssertGoogleErrorAsync(project, HttpStatusCode.NotFound, "NOT_FOUND");
        await AssertGoogleErrorAsync(path, HttpStatusCode.NotFound, "NOT_FOUND");
        await AssertGoogleErrorAsync(get, HttpStatusCode.NotFound, "NOT_FOUND");
        Assert.Empty(_google.Messages);
    }

    [Fact]
    public async Task An_unregistered_device_is_404_UNREGISTERED_in_FCMs_exact_words()
    {
        _google.UnregisterDevice(Device);

        using var response = await SendAsync(ValidRequest());

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(
            """{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}""",
            await response.Content.ReadAsStringAsync());
        Assert.Empty(_google.Messages);
    }

    [Fact]
    public async Task A_token_that_was_never_registered_is_400_INVALID_ARGUMENT()
    {
        var request = ValidRequest();
        request["message"]!["token"] = "not-a-token-fcm-ever-issued";

        using var response = await SendAsync(request);

        var error = await AssertGoogleErrorAsync(response, HttpStatusCode.BadRequest, "INVALID_ARGUMENT");
        Assert.Equal("The registration token is not a valid FCM registration token", error.GetProperty("message").GetString());
        Assert.Equal("INVALID_ARGUMENT", FcmErrorCode(error));
        Assert.Empty(_google.Messages);
    }

    [Fact]
    public async Task A_device_registered_again_receives_again()
    {
        _google.UnregisterDevice(Device);
        _google.RegisterDevice(Device);

        using var response = await SendAsync(ValidRequest());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static TheoryData<string, string> Violations => new()
    {
        { "no message", "message" },
        { "message not an object", "message" },
        { "no target", "message" },
        { "token and topic", "message.topic" },
        { "empty token", "message.token" },
        { "invalid topic", "message.topic" },
        { "data value a number", "message.data[1].value" },
        { "data value an object", "message.data[0].value" },
        { "data not an object", "message.data" },
        { "data key from", "message.data[2].key" },
        { "data key google.", "message.data[2].key" },
        { "data key gcm.", "message.data[2].key" },
        { "unknown message field", "message.priority" },
        { "unknown top-level field", "dry_run" },
        { "unknown notification field", "message.notification.sound" },
        { "notification title a number", "message.notification.title" },
        { "android not an object", "message.android" },
        { "apns not an object", "message.apns" },
        { "webpush not an object", "message.webpush" },
        { "apns header a number", "message.apns.headers[apns-priority]" },
        { "android ttl not a duration", "message.android.ttl" },
        { "android priority unknown", "message.android.priority" },
        { "validate_only not a boolean", "validate_only" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task A_message_FCM_would_refuse_is_400_INVALID_ARGUMENT_naming_the_field_and_records_nothing(string violation, string field)
    {
        var request = ValidRequest();
        Break(request, violation);

        using var response = await SendAsync(request);

        var error = await AssertGoogleErrorAsync(response, HttpStatusCode.BadRequest, "INVALID_ARGUMENT");
        var violations = error.GetProperty("details").EnumerateArray()
            .Where(d => d.GetProperty("@type").GetString() == "type.googleapis.com/google.rpc.BadRequest")
            .SelectMany(d => d.GetProperty("fieldViolations").EnumerateArray())
            .Select(v => v.GetProperty("field").GetString());
        Assert.Contains(field, violations);
        Assert.Empty(_google.Messages);
    }

    [Fact]
    public async Task Non_string_data_is_refused_in_FCMs_words()
    {
        var request = ValidRequest();
        request["message"]!["data"]!["remaining"] = 12;

        using var response = await SendAsync(request);

        var error = await AssertGoogleErrorAsync(response, HttpStatusCode.BadRequest, "INVALID_ARGUMENT");
        Assert.Equal("Invalid value at 'message.data[1].value' (TYPE_STRING), 12", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("{\"message\":", "application/json")]
    [InlineData("[]", "application/json")]
    [InlineData("{\"message\":{\"token\":\"a\"},\"message\":{\"token\":\"b\"}}", "application/json")]
    [InlineData("{\"message\":{\"topic\":\"a\"}}", "text/plain")]
    public async Task A_body_that_is_not_one_JSON_object_is_400_INVALID_ARGUMENT(string body, string mediaType)
    {
        using var response = await _http.SendAsync(Authorized(HttpMethod.Post, $"v1/projects/{Project}/messages:send", new StringContent(body, Encoding.UTF8, mediaType)));

        await AssertGoogleErrorAsync(response, HttpStatusCode.BadRequest, "INVALID_ARGUMENT");
        Assert.Empty(_google.Messages);
    }

    [Theory]
    [InlineData(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED")]
    [InlineData(500, "INTERNAL", "INTERNAL")]
    [InlineData(503, "UNAVAILABLE", "UNAVAILABLE")]
    public async Task FailNext_answers_FCMs_error_for_the_status_before_anything_else_then_service_resumes(int status, string googleStatus, string errorCode)
    {
        _google.FailNext(status, TimeSpan.FromSeconds(10));

        // Even a request without credentials gets the injected failure: it is consumed first.
        using var failed = await _http.PostAsync($"v1/projects/{Project}/messages:send", Json(ValidRequest()));
        using var next = await SendAsync(ValidRequest());

        var error = await AssertGoogleErrorAsync(failed, (HttpStatusCode)status, googleStatus);
        Assert.Equal(errorCode, FcmErrorCode(error));
        Assert.Equal(TimeSpan.FromSeconds(10), failed.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Single(_google.Messages);
        Assert.Equal([status, 200], _google.Requests.Select(r => r.StatusCode));
    }

    [Fact]
    public async Task FailNext_for_a_path_waits_for_a_request_on_that_path()
    {
        _google.FailNext(500, path: GoogleStandIn.FcmPathPrefix);
        _google.FailNext(503, path: GoogleStandIn.TokenPath);

        var token = Jwt.AccessTokenAsync(_http, _google, _account, Now);
        await Assert.ThrowsAsync<HttpRequestException>(() => token);
        using var send = await SendAsync(ValidRequest());
        _accessToken = await Jwt.AccessTokenAsync(_http, _google, _account, Now);
        using var resent = await SendAsync(ValidRequest());

        Assert.Equal(HttpStatusCode.InternalServerError, send.StatusCode);
        Assert.Equal(HttpStatusCode.OK, resent.StatusCode);
        Assert.Equal(
            [(GoogleStandIn.TokenPath, 503), ($"/v1/projects/{Project}/messages:send", 500), (GoogleStandIn.TokenPath, 200), ($"/v1/projects/{Project}/messages:send", 200)],
            _google.Requests.Select(r => (r.Path, r.StatusCode ?? 0)));
        Assert.Equal(2, _google.TokenRequests);
    }

    [Fact]
    public async Task While_down_both_services_are_503_and_nothing_is_issued_or_recorded()
    {
        _google.Down = true;

        using var send = await SendAsync(ValidRequest());
        await Assert.ThrowsAsync<HttpRequestException>(() => Jwt.AccessTokenAsync(_http, _google, _account, Now));
        _google.Down = false;
        using var after = await SendAsync(ValidRequest());

        await AssertGoogleErrorAsync(send, HttpStatusCode.ServiceUnavailable, "UNAVAILABLE");
        Assert.Equal([503, 503, 200], _google.Requests.Select(r => r.StatusCode));
        Assert.Single(_google.IssuedTokens);
        Assert.Single(_google.Messages);
    }

    [Fact]
    public async Task FailNextWith_can_drop_the_connection()
    {
        _google.FailNextWith(context =>
        {
            context.Abort();
            return Task.CompletedTask;
        });

        await Assert.ThrowsAsync<HttpRequestException>(() => SendAsync(ValidRequest()));

        Assert.Empty(_google.Messages);
        Assert.Null(Assert.Single(_google.Requests).StatusCode);
    }

    [Fact]
    public async Task Parallel_sends_to_many_devices_are_all_recorded()
    {
        const int count = 24;
        var devices = Enumerable.Range(0, count).Select(i => $"device-{i}").ToList();
        devices.ForEach(_google.RegisterDevice);

        var statuses = await Task.WhenAll(devices.Select(async device =>
        {
            var request = ValidRequest();
            request["message"]!["token"] = device;
            using var response = await SendAsync(request);
            return response.StatusCode;
        }));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(devices.Order(), _google.Messages.Select(m => m.Token!).Order());
        Assert.Equal(count, _google.Messages.Select(m => m.Name).Distinct().Count());
    }

    [Fact]
    public async Task A_token_from_Google_Apis_Auth_sends_a_message()
    {
        await using var google = await GoogleStandIn.StartAsync(Project);
        var credential = CredentialFactory.FromJson<ServiceAccountCredential>(google.CreateServiceAccount().Json)
            .ToGoogleCredential()
            .CreateScoped(GoogleStandIn.FirebaseMessagingScope);
        google.RegisterDevice(Device);
        using var http = new HttpClient { BaseAddress = google.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/projects/{Project}/messages:send") { Content = Json(ValidRequest()) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await ((ITokenAccess)credential).GetAccessTokenForRequestAsync());

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(google.Messages);
    }

    private static void Break(JsonObject request, string violation)
    {
        var message = request["message"]!.AsObject();
        var data = message["data"]!.AsObject();
        switch (violation)
        {
            case "no message": request.Remove("message"); break;
            case "message not an object": request["message"] = "hello"; break;
            case "no target": message.Remove("token"); break;
            case "token and topic": message["topic"] = "news"; break;
            case "empty token": message["token"] = ""; break;
            case "invalid topic": message.Remove("token"); message["topic"] = "news and more"; break;
            case "data value a number": data["remaining"] = 3000; break;
            case "data value an object": data["voucher"] = new JsonObject { ["id"] = "1" }; break;
            case "data not an object": message["data"] = new JsonArray("a"); break;
            case "data key from": data["from"] = "x"; break;
            case "data key google.": data["google.c.a.e"] = "1"; break;
            case "data key gcm.": data["gcm.n.e"] = "1"; break;
            case "unknown message field": message["priority"] = "high"; break;
            case "unknown top-level field": request["dry_run"] = true; break;
            case "unknown notification field": message["notification"]!["sound"] = "default"; break;
            case "notification title a number": message["notification"]!["title"] = 1; break;
            case "android not an object": message["android"] = "high"; break;
            case "apns not an object": message["apns"] = new JsonArray(); break;
            case "webpush not an object": message["webpush"] = 1; break;
            case "apns header a number": message["apns"]!["headers"]!["apns-priority"] = 10; break;
            case "android ttl not a duration": message["android"]!["ttl"] = "1h"; break;
            case "android priority unknown": message["android"]!["priority"] = "urgent"; break;
            case "validate_only not a boolean": request["validate_only"] = "yes"; break;
            default: throw new ArgumentOutOfRangeException(nameof(violation), violation, null);
        }
    }

    private Task<HttpResponseMessage> SendAsync(JsonObject body) =>
        _http.SendAsync(Authorized(HttpMethod.Post, $"v1/projects/{Project}/messages:send", Json(body)));

    private HttpRequestMessage Authorized(HttpMethod method, string path, HttpContent? content)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _accessToken);
        return request;
    }

    private static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private static async Task<JsonElement> AssertGoogleErrorAsync(HttpResponseMessage response, HttpStatusCode status, string googleStatus)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("error").Clone();
        Assert.Equal((int)status, error.GetProperty("code").GetInt32());
        Assert.Equal(googleStatus, error.GetProperty("status").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        return error;
    }

    private static string? FcmErrorCode(JsonElement error) =>
        error.GetProperty("details").EnumerateArray()
            .Where(d => d.GetProperty("@type").GetString() == "type.googleapis.com/google.firebase.fcm.v1.FcmError")
            .Select(d => d.GetProperty("errorCode").GetString())
            .Single();
}
