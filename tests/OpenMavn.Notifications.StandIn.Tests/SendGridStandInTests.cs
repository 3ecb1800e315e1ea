using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace OpenMavn.Notifications.StandIn.Tests;

/// <summary>Drives the SendGrid stand-in with a plain HttpClient to prove it enforces the v3 Mail Send contract.</summary>
public sealed class SendGridStandInTests : IAsyncLifetime
{
    private const string ApiKey = "SG.standin-key.0123456789abcdef";

    private SendGridStandIn _sendGrid = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _sendGrid = await SendGridStandIn.StartAsync(ApiKey);
        _http = new HttpClient { BaseAddress = _sendGrid.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _sendGrid.DisposeAsync();
    }

    /// <summary>A mail SendGrid accepts; each violation test breaks one thing in it.</summary>
    internal static JsonObject ValidMail() => new()
    {
        ["personalizations"] = new JsonArray(new JsonObject
        {
            ["to"] = new JsonArray(new JsonObject { ["email"] = "anna@example.ch", ["name"] = "Anna Muster" }),
            ["custom_args"] = new JsonObject { ["order"] = "ORD-1" },
            ["headers"] = new JsonObject { ["X-Order"] = "ORD-1" },
        }),
        ["from"] = new JsonObject { ["email"] = "gutscheine@blumenladen.ch", ["name"] = "Blumenladen" },
        ["reply_to"] = new JsonObject { ["email"] = "hallo@blumenladen.ch" },
        ["subject"] = "Ihr Gutschein",
        ["content"] = new JsonArray(
            new JsonObject { ["type"] = "text/plain", ["value"] = "Grüezi Anna" },
            new JsonObject { ["type"] = "text/html", ["value"] = "<p>Grüezi Anna</p>" }),
        ["attachments"] = new JsonArray(
            new JsonObject
            {
                ["content"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("%PDF-1.7 voucher")),
                ["filename"] = "gutschein.pdf",
                ["type"] = "application/pdf",
                ["disposition"] = "attachment",
            },
            new JsonObject
            {
                ["content"] = Convert.ToBase64String([0x89, 0x50, 0x4E, 0x47]),
                ["filename"] = "qr.png",
                ["type"] = "image/png",
                ["disposition"] = "inline",
                ["content_id"] = "qr",
            }),
        ["custom_args"] = new JsonObject { ["tenant"] = "blumenladen", ["order"] = "overridden" },
        ["categories"] = new JsonArray("voucher", "transactional"),
        ["headers"] = new JsonObject { ["X-Tenant"] = "blumenladen" },
    };

    [Fact]
    public void Listens_on_the_loopback_address_only()
    {
        Assert.Equal("127.0.0.1", _sendGrid.BaseUrl.Host);
        Assert.NotEqual(0, _sendGrid.BaseUrl.Port);
        Assert.EndsWith("/", _sendGrid.BaseUrl.AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_valid_mail_is_202_with_an_empty_body_and_an_X_Message_Id_and_is_recorded_typed()
    {
        using var response = await SendAsync(ValidMail());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        var messageId = Assert.Single(response.Headers.GetValues("X-Message-Id"));
        Assert.False(string.IsNullOrWhiteSpace(messageId));

        var mail = Assert.Single(_sendGrid.Mails);
        Assert.Equal(messageId, mail.MessageId);
        Assert.Equal([new EmailAddress("anna@example.ch", "Anna Muster")], mail.To);
        Assert.Empty(mail.Cc);
        Assert.Equal(new EmailAddress("gutscheine@blumenladen.ch", "Blumenladen"), mail.From);
        Assert.Equal(new EmailAddress("hallo@blumenladen.ch", null), mail.ReplyTo);
        Assert.Equal("Ihr Gutschein", mail.Subject);
        Assert.Equal("Grüezi Anna", mail.Text);
        Assert.Equal("<p>Grüezi Anna</p>", mail.Html);
        Assert.Equal(["voucher", "transactional"], mail.Categories);
        // The personalization's custom_args and headers override the top-level ones, key by key.
        Assert.Equal(new Dictionary<string, string> { ["tenant"] = "blumenladen", ["order"] = "ORD-1" }, mail.CustomArgs);
        Assert.Equal(new Dictionary<string, string> { ["X-Tenant"] = "blumenladen", ["X-Order"] = "ORD-1" }, mail.Headers);

        Assert.Equal(2, mail.Attachments.Count);
        var pdf = mail.Attachments[0];
        Assert.Equal(("gutschein.pdf", "application/pdf", (string?)null, "attachment"), (pdf.Filename, pdf.Type, pdf.ContentId, pdf.Disposition));
        Assert.Equal("%PDF-1.7 voucher", Encoding.UTF8.GetString(pdf.Bytes.Span));
        var qr = mail.Attachments[1];
        Assert.Equal(("qr.png", "inline", "qr"), (qr.Filename, qr.Disposition, qr.ContentId));
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, qr.Bytes.ToArray());

        var request = Assert.Single(_sendGrid.Requests);
        Assert.Equal((HttpMethods.Post, SendGridStandIn.MailSendPath, 202), (request.Method, request.Path, request.StatusCode));
        Assert.Equal($"Bearer {ApiKey}", request.Headers["Authorization"]);
    }

    [Fact]
    public async Task Each_personalization_is_one_mail_and_its_subject_alone_is_enough()
    {
        var mail = ValidMail();
        mail.Remove("subject");
        mail["personalizations"] = new JsonArray(
            new JsonObject { ["to"] = new JsonArray(new JsonObject { ["email"] = "a@example.ch" }), ["subject"] = "Für A" },
            new JsonObject
            {
                ["to"] = new JsonArray(new JsonObject { ["email"] = "b@example.ch" }),
                ["cc"] = new JsonArray(new JsonObject { ["email"] = "c@example.ch" }),
                ["subject"] = "Für B",
                ["custom_args"] = new JsonObject { ["order"] = "ORD-2" },
            });

        using var response = await SendAsync(mail);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var mails = _sendGrid.Mails;
        Assert.Equal(2, mails.Count);
        Assert.Equal(("a@example.ch", "Für A", "overridden"), (mails[0].To.Single().Email, mails[0].Subject, mails[0].CustomArgs["order"]));
        Assert.Equal(("b@example.ch", "Für B", "ORD-2"), (mails[1].To.Single().Email, mails[1].Subject, mails[1].CustomArgs["order"]));
        Assert.Equal("c@example.ch", mails[1].Cc.Single().Email);
        Assert.Equal(mails[0].MessageId, mails[1].MessageId);
    }

    [Fact]
    public async Task Plain_text_alone_and_html_alone_are_accepted()
    {
        var text = ValidMail();
        text["content"] = new JsonArray(new JsonObject { ["type"] = "text/plain", ["value"] = "only text" });
        var html = ValidMail();
        html["content"] = new JsonArray(new JsonObject { ["type"] = "text/html", ["value"] = "<b>only html</b>" });

        using var first = await SendAsync(text);
        using var second = await SendAsync(html);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal([("only text", null), (null, "<b>only html</b>")], _sendGrid.Mails.Select(m => (m.Text, m.Html)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer SG.wrong-key")]
    [InlineData("Basic " + ApiKey)]
    [InlineData(ApiKey)]
    public async Task A_missing_or_wrong_key_is_401_with_SendGrids_error_body(string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v3/mail/send") { Content = Json(ValidMail()) };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(
            """{"errors":[{"message":"The provided authorization grant is invalid, expired, or revoked","field":null,"help":null}]}""",
            await response.Content.ReadAsStringAsync());
        Assert.Empty(_sendGrid.Mails);
        Assert.Equal(401, Assert.Single(_sendGrid.Requests).StatusCode);
    }

    [Fact]
    public async Task Another_path_is_404_and_another_method_is_405()
    {
        using var other = await _http.SendAsync(Authorized(HttpMethod.Post, "v3/mail/batch", Json(ValidMail())));
        using var get = await _http.SendAsync(Authorized(HttpMethod.Get, "v3/mail/send", null));

        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal(["POST"], get.Content.Headers.Allow);
        Assert.Empty(_sendGrid.Mails);
    }

    [Fact]
    public async Task A_body_that_is_not_declared_as_JSON_is_415()
    {
        var content = new StringContent(ValidMail().ToJsonString(), Encoding.UTF8, "text/plain");

        using var response = await _http.SendAsync(Authorized(HttpMethod.Post, "v3/mail/send", content));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("Content-Type should be application/json.", (await ErrorsAsync(response)).Single().Message);
        Assert.Empty(_sendGrid.Mails);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("""{"from":{"email":"a@example.ch"},"from":{"email":"b@example.ch"}}""")]
    public async Task A_body_that_is_not_one_JSON_object_is_400(string body)
    {
        var content = new StringContent(body, Encoding.UTF8, "application/json");

        using var response = await _http.SendAsync(Authorized(HttpMethod.Post, "v3/mail/send", content));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null((await ErrorsAsync(response)).Single().Field);
        Assert.Empty(_sendGrid.Mails);
    }

    public static TheoryData<string, string> Violations => new()
    {
        { "no personalizations", "personalizations" },
        { "empty personalizations", "personalizations" },
        { "1001 personalizations", "personalizations" },
        { "personalization without to", "personalizations.0.to" },
        { "empty to", "personalizations.0.to" },
        { "to without email", "personalizations.0.to.0.email" },
        { "invalid to email", "personalizations.0.to.0.email" },
        { "invalid cc email", "personalizations.0.cc.0.email" },
        { "same address in to and bcc", "personalizations.0" },
        { "no from", "from" },
        { "invalid from email", "from.email" },
        { "no subject anywhere", "subject" },
        { "subject in only one personalization", "subject" },
        { "no content", "content" },
        { "empty content", "content" },
        { "content without value", "content.0.value" },
        { "content without type", "content.0.type" },
        { "html before plain", "content" },
        { "plain twice", "content" },
        { "attachment not base64", "attachments.0.content" },
        { "attachment without content", "attachments.0.content" },
        { "attachment without filename", "attachments.0.filename" },
        { "inline attachment without content_id", "attachments.0.content_id" },
        { "unknown disposition", "attachments.0.disposition" },
        { "custom_args value not a string", "custom_args.order" },
        { "personalization custom_args value not a string", "personalizations.0.custom_args.count" },
        { "eleven categories", "categories" },
        { "category not a string", "categories.0" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task A_mail_SendGrid_would_refuse_is_400_naming_the_field_and_records_nothing(string violation, string field)
    {
        var mail = ValidMail();
        Break(mail, violation);

        using var response = await SendAsync(mail);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = await ErrorsAsync(response);
        Assert.Contains(errors, e => e.Field == field);
        Assert.All(errors, e => Assert.False(string.IsNullOrEmpty(e.Message)));
        Assert.Empty(_sendGrid.Mails);
        Assert.Equal(400, Assert.Single(_sendGrid.Requests).StatusCode);
    }

    [Fact]
    public async Task Every_violation_is_answered_at_once()
    {
        var mail = ValidMail();
        mail.Remove("from");
        mail.Remove("subject");
        mail["content"] = new JsonArray();

        using var response = await SendAsync(mail);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["content", "from", "subject"], (await ErrorsAsync(response)).Select(e => e.Field).Order());
    }

    [Fact]
    public async Task A_template_makes_subject_and_content_optional()
    {
        var mail = ValidMail();
        mail.Remove("subject");
        mail.Remove("content");
        mail["template_id"] = "d-0123456789abcdef0123456789abcdef";

        using var response = await SendAsync(mail);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var sent = Assert.Single(_sendGrid.Mails);
        Assert.Equal(("d-0123456789abcdef0123456789abcdef", (string?)null, (string?)null), (sent.TemplateId, sent.Subject, sent.Text));
    }

    [Fact]
    public async Task FailNext_answers_the_next_request_before_authentication_and_records_no_mail_then_service_resumes()
    {
        _sendGrid.FailNext(429, TimeSpan.FromSeconds(29.2));
        _sendGrid.FailNext(500);

        using var limited = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "v3/mail/send") { Content = Json(ValidMail()) });
        using var failed = await SendAsync(ValidMail());
        using var accepted = await SendAsync(ValidMail());

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(30), limited.Headers.RetryAfter?.Delta);
        Assert.NotEmpty(await ErrorsAsync(limited));
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Null(failed.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Single(_sendGrid.Mails);
        Assert.Equal([429, 500, 202], _sendGrid.Requests.Select(r => r.StatusCode));
    }

    [Fact]
    public async Task While_down_every_request_is_503_and_queued_failures_wait_for_it_to_come_back()
    {
        _sendGrid.FailNext(500);
        _sendGrid.Down = true;

        using var first = await SendAsync(ValidMail());
        using var second = await _http.SendAsync(Authorized(HttpMethod.Get, "v3/other", null));
        _sendGrid.Down = false;
        using var third = await SendAsync(ValidMail());
        using var fourth = await SendAsync(ValidMail());

        Assert.Equal(
            [HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable, HttpStatusCode.InternalServerError, HttpStatusCode.Accepted],
            new[] { first, second, third, fourth }.Select(r => r.StatusCode));
        Assert.Single(_sendGrid.Mails);
    }

    [Fact]
    public async Task FailNextWith_can_hold_the_answer_until_the_client_gives_up()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _sendGrid.FailNextWith(async context =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                aborted.SetResult();
            }
        });

        using var impatient = new HttpClient { BaseAddress = _sendGrid.BaseUrl, Timeout = TimeSpan.FromMilliseconds(300) };
        await Assert.ThrowsAsync<TaskCanceledException>(() => impatient.SendAsync(Authorized(HttpMethod.Post, "v3/mail/send", Json(ValidMail()))));
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(5));

        using var next = await SendAsync(ValidMail());
        Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
        Assert.Single(_sendGrid.Mails);
    }

    [Fact]
    public async Task FailNextWith_can_drop_the_connection_which_records_no_status()
    {
        _sendGrid.FailNextWith(context =>
        {
            context.Abort();
            return Task.CompletedTask;
        });

        await Assert.ThrowsAsync<HttpRequestException>(() => SendAsync(ValidMail()));

        Assert.Empty(_sendGrid.Mails);
        Assert.Null(Assert.Single(_sendGrid.Requests).StatusCode);
    }

    [Fact]
    public async Task ClearMails_forgets_the_mails_but_not_the_requests()
    {
        using var response = await SendAsync(ValidMail());
        Assert.Single(_sendGrid.Mails);

        _sendGrid.ClearMails();

        Assert.Empty(_sendGrid.Mails);
        Assert.Single(_sendGrid.Requests);
    }

    [Fact]
    public async Task Parallel_sends_are_all_recorded_each_with_its_own_message_id()
    {
        const int count = 24;
        var responses = await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            var mail = ValidMail();
            mail["personalizations"]![0]!["to"]![0]!["email"] = $"kunde{i}@example.ch";
            using var response = await SendAsync(mail);
            return (response.StatusCode, Id: response.Headers.GetValues("X-Message-Id").Single());
        }));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Equal(count, responses.Select(r => r.Id).Distinct().Count());
        Assert.Equal(count, _sendGrid.Mails.Select(m => m.To.Single().Email).Distinct().Count());
        Assert.Equal(count, _sendGrid.Requests.Count);
    }

    private static void Break(JsonObject mail, string violation)
    {
        var personalization = mail["personalizations"]![0]!.AsObject();
        var attachment = mail["attachments"]![0]!.AsObject();
        switch (violation)
        {
            case "no personalizations": mail.Remove("personalizations"); break;
            case "empty personalizations": mail["personalizations"] = new JsonArray(); break;
            case "1001 personalizations":
                mail["personalizations"] = new JsonArray([.. Enumerable.Range(0, 1001).Select(i => (JsonNode)new JsonObject
                {
                    ["to"] = new JsonArray(new JsonObject { ["email"] = $"k{i}@example.ch" }),
                })]);
                break;
            case "personalization without to": personalization.Remove("to"); break;
            case "empty to": personalization["to"] = new JsonArray(); break;
            case "to without email": personalization["to"] = new JsonArray(new JsonObject { ["name"] = "Anna" }); break;
            case "invalid to email": personalization["to"]![0]!["email"] = "anna at example.ch"; break;
            case "invalid cc email": personalization["cc"] = new JsonArray(new JsonObject { ["email"] = "anna@" }); break;
            case "same address in to and bcc": personalization["bcc"] = new JsonArray(new JsonObject { ["email"] = "ANNA@example.ch" }); break;
            case "no from": mail.Remove("from"); break;
            case "invalid from email": mail["from"]!["email"] = "blumenladen"; break;
            case "no subject anywhere": mail.Remove("subject"); break;
            case "subject in only one personalization":
                mail.Remove("subject");
                personalization["subject"] = "Für Anna";
                mail["personalizations"]!.AsArray().Add(new JsonObject { ["to"] = new JsonArray(new JsonObject { ["email"] = "b@example.ch" }) });
                break;
            case "no content": mail.Remove("content"); break;
            case "empty content": mail["content"] = new JsonArray(); break;
            case "content without value": mail["content"]![0]!.AsObject().Remove("value"); break;
            case "content without type": mail["content"]![0]!["type"] = ""; break;
            case "html before plain":
                mail["content"] = new JsonArray(
                    new JsonObject { ["type"] = "text/html", ["value"] = "<p>x</p>" },
                    new JsonObject { ["type"] = "text/plain", ["value"] = "x" });
                break;
            case "plain twice":
                mail["content"] = new JsonArray(
                    new JsonObject { ["type"] = "text/plain", ["value"] = "x" },
                    new JsonObject { ["type"] = "text/plain", ["value"] = "y" });
                break;
            case "attachment not base64": attachment["content"] = "not base64!"; break;
            case "attachment without content": attachment.Remove("content"); break;
            case "attachment without filename": attachment.Remove("filename"); break;
            case "inline attachment without content_id": attachment["disposition"] = "inline"; break;
            case "unknown disposition": attachment["disposition"] = "embedded"; break;
            case "custom_args value not a string": mail["custom_args"]!["order"] = 42; break;
            case "personalization custom_args value not a string": personalization["custom_args"]!["count"] = true; break;
            case "eleven categories": mail["categories"] = new JsonArray([.. Enumerable.Range(0, 11).Select(i => (JsonNode)$"c{i}")]); break;
            case "category not a string": mail["categories"]![0] = 7; break;
            default: throw new ArgumentOutOfRangeException(nameof(violation), violation, null);
        }
    }

    private Task<HttpResponseMessage> SendAsync(JsonObject mail) =>
        _http.SendAsync(Authorized(HttpMethod.Post, "v3/mail/send", Json(mail)));

    private static HttpRequestMessage Authorized(HttpMethod method, string path, HttpContent? content)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        return request;
    }

    private static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private static async Task<IReadOnlyList<(string Message, string? Field)>> ErrorsAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return
        [
            .. json.RootElement.GetProperty("errors").EnumerateArray().Select(e =>
            {
                Assert.Equal(JsonValueKind.Null, e.GetProperty("help").ValueKind);
                return (e.GetProperty("message").GetString()!, e.GetProperty("field").GetString());
            }),
        ];
    }
}
