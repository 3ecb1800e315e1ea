using Microsoft.AspNetCore.Http;
using System.Text.Json;
using OpenMavn.Core;
using OpenMavn.Core.Notifications;
using OpenMavn.Notifications.StandIn;

namespace OpenMavn.Notifications.Tests;

/// <summary>
/// The <c>push</c> channel, composed through DI with device tokens in the OpenMavn database, against the Google
/// stand-in (OAuth2 JWT grant + FCM HTTP v1 contract).
/// </summary>
public sealed class FirebasePushSenderTests : IAsyncLifetime
{
    private GoogleStandIn _google = null!;
    private ServiceAccount _account = null!;
    private SenderHost _host = null!;

    public async Task InitializeAsync()
    {
        _google = await GoogleStandIn.StartAsync("openmavn-push-test");
        _account = _google.CreateServiceAccount();
        _host = await SenderHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["OpenMavn:Notifications:Firebase:ProjectId"] = _google.ProjectId,
                ["OpenMavn:Notifications:Firebase:ServiceAccountJson"] = _account.Json,
                ["OpenMavn:Notifications:Firebase:Endpoint"] = _google.BaseUrl.ToString(),
                ["OpenMavn:Notifications:Firebase:RequestTimeout"] = "00:00:10",
            },
            b => b.AddFirebasePush());
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _google.DisposeAsync();
    }

    private static string NewToken() => "fcm-" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + ":APA91b" + Guid.NewGuid().ToString("N");

    private async Task<(Guid UserId, string[] Tokens)> CustomerAsync(int devices, bool registerWithGoogle = true, string language = "de")
    {
        var tokens = Enumerable.Range(0, devices).Select(_ => NewToken()).ToArray();
        if (registerWithGoogle)
        {
            foreach (var token in tokens)
            {
                _google.RegisterDevice(token);
            }
        }

        return (await _host.CreateCustomerAsync(language, tokens), tokens);
    }

    private static NotificationMessage Purchase(Guid? userId, Dictionary<string, string>? model = null, string? dedupeKey = null, string language = "de")
    {
        model ??= Model.Purchased();
        return new(NotificationTypes.VoucherPurchased, new NotificationRecipient(userId, "anna@example.ch", "Anna Muster"), language, model, dedupeKey ?? $"purchase:{model["orderId"]}:push");
    }

    private Task<NotificationOutcome> SendAsync(NotificationMessage message, CancellationToken cancellationToken = default) =>
        _host.SendAsync("push", message, cancellationToken);

    [Fact]
    public async Task Sends_a_localized_push_with_ids_only_and_a_stable_collapse_key()
    {
        var (userId, tokens) = await CustomerAsync(1);
        var model = Model.Purchased();
        var message = Purchase(userId, model);

        var outcome = await SendAsync(message);

        Assert.Equal(NotificationOutcome.Sent, outcome);
        var push = Assert.Single(_google.Messages);
        Assert.Equal(tokens[0], push.Token);
        Assert.Equal("Ihr Kauf: 2 × Brunch", push.Title);
        Assert.Equal("2 × Brunch von Café <Rosa> liegt in Ihrer Wallet bereit.", push.Body);

        // The type and the ids, nothing else: codes, names and amounts stay out of the payload.
        Assert.Equal(
            new Dictionary<string, string> { ["type"] = NotificationTypes.VoucherPurchased, ["orderId"] = model["orderId"] },
            push.Data.ToDictionary());
        Assert.DoesNotContain(model["codes"], push.RawJson, StringComparison.Ordinal);

        Assert.False(string.IsNullOrEmpty(push.AndroidCollapseKey));
        Assert.Equal(push.AndroidCollapseKey, push.ApnsCollapseId);
        using (var raw = JsonDocument.Parse(push.RawJson))
        {
            Assert.Equal(push.AndroidCollapseKey, raw.RootElement.GetProperty("webpush").GetProperty("headers").GetProperty("Topic").GetString());
        }

        // A retry of the same message collapses onto the first; another message does not.
        await SendAsync(Purchase(userId, model, message.DedupeKey));
        await SendAsync(Purchase(userId, dedupeKey: "purchase:another-order:push"));
        var messages = _google.Messages;
        Assert.Equal(3, messages.Count);
        Assert.Equal(push.AndroidCollapseKey, messages[1].AndroidCollapseKey);
        Assert.Equal(push.ApnsCollapseId, messages[1].ApnsCollapseId);
        Assert.NotEqual(push.AndroidCollapseKey, messages[2].AndroidCollapseKey);

        // One access token for every send: it is cached.
        Assert.Equal(1, _google.TokenRequests);
        var issued = Assert.Single(_google.IssuedTokens);
        Assert.Equal(_account.ClientEmail, issued.ClientEmail);
        Assert.Contains(GoogleStandIn.FirebaseMessagingScope, issued.Scopes);
        Assert.All(_google.Requests.Where(r => r.Path != GoogleStandIn.TokenPath), r =>
        {
            Assert.Equal($"/v1/projects/{_google.ProjectId}/messages:send", r.Path);
            Assert.Equal("Bearer " + issued.AccessToken, r.Headers["Authorization"]);
        });
    }

    [Fact]
    public async Task A_gift_push_carries_the_gift_id_but_never_the_claim_link()
    {
        var (userId, _) = await CustomerAsync(1, language: "en");
        var model = Model.All().First(m => m.Type == NotificationTypes.GiftReceived && m.Model["claimUrl"].Length > 0).Model;

        await SendAsync(new NotificationMessage(NotificationTypes.GiftReceived, new NotificationRecipient(userId, null, "Carla"), "en", model, $"gift:{model["giftId"]}:push"));

        var push = Assert.Single(_google.Messages);
        Assert.Equal(["giftId", "type"], push.Data.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(model["giftId"], push.Data["giftId"]);
        Assert.DoesNotContain("claim", push.RawJson, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("token=abc", push.RawJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_device_of_the_customer_gets_the_push()
    {
        var (userId, tokens) = await CustomerAsync(2);

        Assert.Equal(NotificationOutcome.Sent, await SendAsync(Purchase(userId)));

        Assert.Equal(tokens.Order(StringComparer.Ordinal), _google.Messages.Select(m => m.Token!).Order(StringComparer.Ordinal));
        Assert.Equal(1, _google.TokenRequests);
    }

    [Fact]
    public async Task Without_devices_or_without_a_user_nothing_is_requested()
    {
        var (userId, _) = await CustomerAsync(0);

        Assert.Equal(NotificationOutcome.Skipped, await SendAsync(Purchase(userId)));
        Assert.Equal(NotificationOutcome.Skipped, await SendAsync(Purchase(userId: null)));
        Assert.Equal(NotificationOutcome.Skipped, await SendAsync(Purchase(Guid.NewGuid())));

        Assert.Empty(_google.Requests);
    }

    [Fact]
    public async Task An_unregistered_token_is_removed_and_the_other_device_still_gets_the_push()
    {
        var (userId, tokens) = await CustomerAsync(2);
        _google.UnregisterDevice(tokens[0]);

        var outcome = await SendAsync(Purchase(userId));

        Assert.Equal(NotificationOutcome.Sent, outcome);
        Assert.Equal(tokens[1], Assert.Single(_google.Messages).Token);
        Assert.Equal([tokens[1]], await _host.TokensAsync(userId));
        Assert.Contains(_google.Requests, r => r.StatusCode == 404);
        Assert.Contains(_host.Logs.Lines, l => l.Contains("[7202]", StringComparison.Ordinal) && l.Contains("UNREGISTERED", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_token_FCM_never_knew_is_removed_too()
    {
        var (userId, _) = await CustomerAsync(1, registerWithGoogle: false);
        var good = NewToken();
        _google.RegisterDevice(good);
        await _host.AddDeviceAsync(userId, good);

        var outcome = await SendAsync(Purchase(userId));

        Assert.Equal(NotificationOutcome.Sent, outcome);
        Assert.Contains(_google.Requests, r => r.StatusCode == 400);
        Assert.Equal([good], await _host.TokensAsync(userId));
        Assert.Contains(_host.Logs.Lines, l => l.Contains("[7202]", StringComparison.Ordinal) && l.Contains("INVALID_ARGUMENT", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_invalid_argument_about_the_message_fails_it_for_good_and_keeps_every_token()
    {
        var (userId, tokens) = await CustomerAsync(2);
        _google.FailNextWith(
            async context =>
            {
                context.Response.StatusCode = 400;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(
                    """{"error":{"code":400,"message":"Invalid value at 'message.data[0].value'","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"},{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.data[0].value","description":"Invalid value"}]}]}}""",
                    context.RequestAborted);
            },
            GoogleStandIn.FcmPathPrefix);

        var error = await Assert.ThrowsAsync<ProviderException>(() => SendAsync(Purchase(userId)));

        Assert.False(error.IsTransient);
        Assert.Contains("message.data", error.Message, StringComparison.Ordinal);
        Assert.Equal(tokens.Order(StringComparer.Ordinal), (await _host.TokensAsync(userId)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task When_every_token_is_gone_the_push_is_skipped_not_failed()
    {
        var (userId, tokens) = await CustomerAsync(1);
        _google.UnregisterDevice(tokens[0]);

        Assert.Equal(NotificationOutcome.Skipped, await SendAsync(Purchase(userId)));
        Assert.Empty(await _host.TokensAsync(userId));
    }

    [Fact]
    public async Task A_429_is_retried_after_the_time_FCM_asked_for()
    {
        var (userId, tokens) = await CustomerAsync(1);
        _google.FailNext(429, TimeSpan.FromSeconds(7), GoogleStandIn.FcmPathPrefix);

        var error = await Assert.ThrowsAsync<ProviderException>(() => SendAsync(Purchase(userId)));

        Assert.True(error.IsTransient);
        Assert.Equal(TimeSpan.FromSeconds(7), error.RetryAfter);
        Assert.Contains("429", error.Message, StringComparison.Ordinal);
        Assert.Empty(_google.Messages);
        Assert.Equal(tokens, await _host.TokensAsync(userId));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    public async Task FCM_server_errors_are_transient_and_keep_the_token(int status)
    {
        var (userId, tokens) = await CustomerAsync(1);
        _google.FailNext(status, path: GoogleStandIn.FcmPathPrefix);

        var error = await Assert.ThrowsAsync<ProviderException>(() => SendAsync(Purchase(userId)));

        Assert.True(error.IsTransient);
        Assert.Equal(tokens, await _host.TokensAsync(userId));
        Assert.Equal(NotificationOutcome.Sent, await SendAsync(Purchase(userId)));
    }

    [Fact]
    public async Task A_403_fails_for_good_and_keeps_the_token()
    {
        var (userId, tokens) = await CustomerAsync(2);
        _google.FailNext(403, path: GoogleStandIn.FcmPathPrefix);

        var error = await Assert.ThrowsAsync<ProviderException>(() => SendAsync(Purchase(userId)));

        Assert.False(error.IsTransient);
        Assert.Contains("403", error.Message, StringComparison.Ordinal);
        Assert.Contains("SENDER_ID_MISMATCH", error.Message, StringComparison.Ordinal);
        Assert.Equal(tokens.Order(StringComparer.Ordinal), (await _host.TokensAsync(userId)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_revoked_service_account_fails_for_good()
    {
        var (userId, _) = await CustomerAsync(1);
        _google.RevokeServiceAccount(_account.ClientEmail);

        var error = await Assert.ThrowsAsync<ProviderException>(() => SendAsync(Purchase(userId)));

        Assert.False(error.IsTransient);
        Assert.Contains("invalid_grant", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_google.Requests, r => r.Path.StartsWith(GoogleStandIn.FcmPathPrefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_token_endpoint_failure_is_transient_and_the_retry_gets_a_token()
    {
        var (userId, _) = await CustomerAsync(1);

        // Google.Apis.Auth itself tries the token endpoint three times (with a short backoff) before giving up.
        for (var i = 0; i < 3; i++)
        {
            _google.FailNext(500, path: GoogleStandIn.TokenPath);
        }

        var error = await Assert.ThrowsAsync<ProviderException>(() => SendAsync(Purchase(userId)));

        Assert.True(error.IsTransient);
        Assert.Contains("server_error", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, _google.TokenRequests);
        Assert.Empty(_google.Messages);
        Assert.Equal(NotificationOutcome.Sent, await SendAsync(Purchase(userId)));
        Assert.Single(_google.Messages);
    }

    [Fact]
    public async Task Revoked_access_tokens_are_a_transient_401_and_the_retry_fetches_a_new_token()
    {
        var (userId, _) = await CustomerAsync(1);
        await SendAsync(Purchase(userId));
        _google.RevokeAccessTokens();

        var error = await Assert.ThrowsAsync<ProviderException>(() => SendAsync(Purchase(userId)));

        Assert.True(error.IsTransient);
        Assert.Contains("401", error.Message, StringComparison.Ordinal);

        // The outbox retries: it must not present the revoked token again (it would, for up to an hour).
        Assert.Equal(NotificationOutcome.Sent, await SendAsync(Purchase(userId)));
        Assert.Equal(2, _google.Messages.Count);
        Assert.Equal(2, _google.IssuedTokens.Count);
    }

    [Fact]
    public async Task No_answer_within_the_request_timeout_is_transient()
    {
        await using var google = await GoogleStandIn.StartAsync("openmavn-timeout-test");
        var account = google.CreateServiceAccount();
        await using var host = await SenderHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["OpenMavn:Notifications:Firebase:ProjectId"] = google.ProjectId,
                ["OpenMavn:Notifications:Firebase:ServiceAccountJson"] = account.Json,
                ["OpenMavn:Notifications:Firebase:Endpoint"] = google.BaseUrl.ToString(),
                ["OpenMavn:Notifications:Firebase:RequestTimeout"] = "00:00:00.300",
            },
            b => b.AddFirebasePush());
        var token = NewToken();
        google.RegisterDevice(token);
        var userId = await host.CreateCustomerAsync("en", token);
        google.FailNextWith(context => Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted), GoogleStandIn.FcmPathPrefix);

        var error = await Assert.ThrowsAsync<ProviderException>(() => host.SendAsync("push", Purchase(userId)));

        Assert.True(error.IsTransient);
        Assert.Contains("request timeout", error.Message, StringComparison.Ordinal);
        Assert.Equal([token], await host.TokensAsync(userId));
    }

    [Fact]
    public async Task A_cancelled_send_is_a_cancellation_not_a_provider_failure()
    {
        var (userId, _) = await CustomerAsync(1);
        _google.FailNextWith(context => Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted), GoogleStandIn.FcmPathPrefix);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        var error = await Record.ExceptionAsync(() => SendAsync(Purchase(userId), cancellation.Token));

        Assert.IsAssignableFrom<OperationCanceledException>(error);
    }

    [Fact]
    public async Task Neither_the_key_nor_an_access_token_nor_a_device_token_is_logged()
    {
        var (userId, tokens) = await CustomerAsync(3);
        _google.UnregisterDevice(tokens[0]);
        _google.FailNext(503, path: GoogleStandIn.FcmPathPrefix);
        await Assert.ThrowsAsync<ProviderException>(() => SendAsync(Purchase(userId)));
        await SendAsync(Purchase(userId));
        _google.RevokeAccessTokens();
        await Record.ExceptionAsync(() => SendAsync(Purchase(userId)));
        await Record.ExceptionAsync(() => SendAsync(Purchase(userId)));
        _google.RevokeServiceAccount(_account.ClientEmail);
        _google.RevokeAccessTokens();
        await Record.ExceptionAsync(() => SendAsync(Purchase(userId)));

        Assert.NotEmpty(_host.Logs.Lines);
        Assert.NotEmpty(_google.IssuedTokens);
        foreach (var line in _account.PrivateKeyPem.Split('\n').Where(l => l.Length > 20 && !l.StartsWith("-----", StringComparison.Ordinal)))
        {
            _host.AssertNotLogged(line);
        }

        foreach (var issued in _google.IssuedTokens)
        {
            _host.AssertNotLogged(issued.AccessToken);
        }

        foreach (var token in tokens)
        {
            _host.AssertNotLogged(token);
        }

        _host.AssertNotLogged("ABCD-EFGH-JKMN-PQRS-TVW0");
    }
}
