using System.Diagnostics;
using OpenMavn.Core;
using OpenMavn.Core.Notifications;
using OpenMavn.Notifications.StandIn;

namespace OpenMavn.Notifications.Tests;

/// <summary>The <c>email</c> channel, composed through DI, against the SendGrid stand-in (v3 Mail Send contract).</summary>
public sealed class SendGridEmailSenderTests : IAsyncLifetime
{
    private const string FromEmail = "gutscheine@openmavn.example.ch";
    private const string FromName = "OpenMavn Test";
    private const string ReplyTo = "hilfe@openmavn.example.ch";

    private readonly string _apiKey = "SG.test-" + Guid.NewGuid().ToString("N");
    private readonly List<SenderHost> _hosts = [];
    private SendGridStandIn _sendGrid = null!;

    public async Task InitializeAsync() => _sendGrid = await SendGridStandIn.StartAsync(_apiKey);

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }

        await _sendGrid.DisposeAsync();
    }

    private async Task<SenderHost> HostAsync(string? apiKey = null, TimeSpan? requestTimeout = null, string? templatesDirectory = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["OpenMavn:Notifications:SendGrid:ApiKey"] = apiKey ?? _apiKey,
            ["OpenMavn:Notifications:SendGrid:FromEmail"] = FromEmail,
            ["OpenMavn:Notifications:SendGrid:FromName"] = FromName,
            ["OpenMavn:Notifications:SendGrid:ReplyTo"] = ReplyTo,
            ["OpenMavn:Notifications:SendGrid:Host"] = _sendGrid.BaseUrl.ToString().TrimEnd('/'),
            ["OpenMavn:Notifications:SendGrid:RequestTimeout"] = (requestTimeout ?? TimeSpan.FromSeconds(10)).ToString("c"),
            ["OpenMavn:Notifications:Templates:Directory"] = templatesDirectory,
        };
        var host = await SenderHost.StartAsync(settings, b => b.AddSendGridEmail());
        _hosts.Add(host);
        return host;
    }

    private static NotificationMessage Purchase(Dictionary<string, string> model, string language = "de", string? email = "anna@example.ch", string? name = "Anna Muster") =>
        new(NotificationTypes.VoucherPurchased, new NotificationRecipient(Guid.NewGuid(), email, name), language, model, $"purchase:{model["orderId"]}:email");

    [Fact]
    public async Task Sends_one_localized_mail_with_inline_QR_codes_and_the_dedupe_key()
    {
        var host = await HostAsync();
        var model = Model.Purchased("ABCD-EFGH-JKMN-PQRS-TVW0, WXYZ-2345-6789-BCDF-GHJ1");
        var message = Purchase(model);

        var outcome = await host.SendAsync("email", message);

        Assert.Equal(NotificationOutcome.Sent, outcome);
        var mail = Assert.Single(_sendGrid.Mails);
        Assert.Equal([new EmailAddress("anna@example.ch", "Anna Muster")], mail.To);
        Assert.Empty(mail.Cc);
        Assert.Empty(mail.Bcc);
        Assert.Equal(new EmailAddress(FromEmail, FromName), mail.From);
        Assert.Equal(ReplyTo, mail.ReplyTo?.Email);

        // German, as the recipient's language says.
        Assert.Equal("Ihr Kauf: 2 × Brunch", mail.Subject);
        Assert.Contains("Guten Tag Anna Muster", mail.Text, StringComparison.Ordinal);
        Assert.Contains("Gutscheincode(s): ABCD-EFGH-JKMN-PQRS-TVW0, WXYZ-2345-6789-BCDF-GHJ1", mail.Text, StringComparison.Ordinal);
        Assert.Contains("Ihr Kauf bei Café <Rosa> ist abgeschlossen", mail.Text, StringComparison.Ordinal);
        Assert.Contains("<html lang=\"de\">", mail.Html, StringComparison.Ordinal);
        Assert.Contains("Vielen Dank für Ihren Kauf", mail.Html, StringComparison.Ordinal);
        Assert.Contains("Caf&#233; &lt;Rosa&gt;", mail.Html, StringComparison.Ordinal); // WebUtility.HtmlEncode writes é as &#233;
        Assert.DoesNotContain("<Rosa>", mail.Html, StringComparison.Ordinal);

        // One inline PNG per code, each referred to by the HTML.
        Assert.Equal(2, mail.Attachments.Count);
        Assert.Equal(2, mail.Attachments.Select(a => a.ContentId).Distinct().Count());
        foreach (var attachment in mail.Attachments)
        {
            Assert.Equal("inline", attachment.Disposition);
            Assert.Equal("image/png", attachment.Type);
            Assert.False(string.IsNullOrEmpty(attachment.ContentId));
            Assert.Contains($"src=\"cid:{attachment.ContentId}\"", mail.Html, StringComparison.Ordinal);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, attachment.Bytes[..8].ToArray());
        }

        Assert.Equal(message.DedupeKey, mail.CustomArgs["dedupe_key"]);
        Assert.Equal(NotificationTypes.VoucherPurchased, mail.CustomArgs["notification_type"]);
        Assert.Equal([NotificationTypes.VoucherPurchased], mail.Categories);

        var request = Assert.Single(_sendGrid.Requests);
        Assert.Equal(("POST", SendGridStandIn.MailSendPath, 202), (request.Method, request.Path, request.StatusCode));
        Assert.Equal("Bearer " + _apiKey, request.Headers["Authorization"]);

        // Codes are bearer secrets: they go in the mail, never in a log.
        host.AssertNotLogged("ABCD-EFGH-JKMN-PQRS-TVW0");
        host.AssertNotLogged(_apiKey);
        Assert.Contains(host.Logs.Lines, l => l.Contains("[7101]", StringComparison.Ordinal) && l.Contains(message.DedupeKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_recipient_name_is_left_out_when_there_is_none_and_the_fallback_language_is_used()
    {
        var host = await HostAsync();

        await host.SendAsync("email", Purchase(Model.Purchased(), language: "rm", name: null));

        var mail = Assert.Single(_sendGrid.Mails);
        Assert.Equal([new EmailAddress("anna@example.ch", null)], mail.To);
        Assert.Equal("Your purchase: 2 × Brunch", mail.Subject);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public async Task Without_an_email_address_nothing_is_sent(string? email)
    {
        var host = await HostAsync();

        var outcome = await host.SendAsync("email", Purchase(Model.Purchased(), email: email));

        Assert.Equal(NotificationOutcome.Skipped, outcome);
        Assert.Empty(_sendGrid.Requests);
    }

    [Fact]
    public async Task A_wrong_API_key_fails_for_good_and_the_key_is_never_shown()
    {
        var wrongKey = "SG.wrong-" + Guid.NewGuid().ToString("N");
        var host = await HostAsync(apiKey: wrongKey);

        var error = await Assert.ThrowsAsync<ProviderException>(() => host.SendAsync("email", Purchase(Model.Purchased())));

        Assert.False(error.IsTransient);
        Assert.Equal("sendgrid", error.Provider);
        Assert.Contains("OpenMavn:Notifications:SendGrid:ApiKey", error.Message, StringComparison.Ordinal);
        Assert.Contains(SendGridStandIn.InvalidKeyMessage, error.Message, StringComparison.Ordinal);
        Assert.Equal(401, Assert.Single(_sendGrid.Requests).StatusCode);
        Assert.Empty(_sendGrid.Mails);
        foreach (var key in new[] { wrongKey, _apiKey })
        {
            Assert.DoesNotContain(key, error.ToString(), StringComparison.Ordinal);
            host.AssertNotLogged(key);
        }

        Assert.Contains(host.Logs.Lines, l => l.Contains("[7103]", StringComparison.Ordinal) && l.Contains("401", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_403_is_a_key_problem_too_and_not_retried()
    {
        var host = await HostAsync();
        _sendGrid.FailNext(403);

        var error = await Assert.ThrowsAsync<ProviderException>(() => host.SendAsync("email", Purchase(Model.Purchased())));

        Assert.False(error.IsTransient);
        Assert.Contains("ApiKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_message_fails_for_good_with_SendGrids_reason()
    {
        var host = await HostAsync();
        _sendGrid.FailNext(400);

        var error = await Assert.ThrowsAsync<ProviderException>(() => host.SendAsync("email", Purchase(Model.Purchased())));

        Assert.False(error.IsTransient);
        Assert.Null(error.RetryAfter);
        Assert.Contains("400", error.Message, StringComparison.Ordinal);
        Assert.Contains("injected failure", error.Message, StringComparison.Ordinal);
        Assert.Empty(_sendGrid.Mails);
    }

    [Fact]
    public async Task An_address_SendGrid_refuses_is_a_400_with_its_field_message()
    {
        var host = await HostAsync();

        // Passes our "is there an address" check, fails SendGrid's shape check (no top-level domain).
        var error = await Assert.ThrowsAsync<ProviderException>(() => host.SendAsync("email", Purchase(Model.Purchased(), email: "anna@localhost")));

        Assert.False(error.IsTransient);
        Assert.Equal(400, Assert.Single(_sendGrid.Requests).StatusCode);
        Assert.Contains("Does not contain a valid address.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_429_is_retried_after_the_time_SendGrid_asked_for()
    {
        var host = await HostAsync();
        _sendGrid.FailNext(429, TimeSpan.FromSeconds(7));

        var error = await Assert.ThrowsAsync<ProviderException>(() => host.SendAsync("email", Purchase(Model.Purchased())));

        Assert.True(error.IsTransient);
        Assert.Equal(TimeSpan.FromSeconds(7), error.RetryAfter);
        Assert.Contains("429", error.Message, StringComparison.Ordinal);

        // The outbox's retry then goes through.
        Assert.Equal(NotificationOutcome.Sent, await host.SendAsync("email", Purchase(Model.Purchased())));
        Assert.Single(_sendGrid.Mails);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    public async Task Server_errors_are_transient(int status)
    {
        var host = await HostAsync();
        _sendGrid.FailNext(status);

        var error = await Assert.ThrowsAsync<ProviderException>(() => host.SendAsync("email", Purchase(Model.Purchased())));

        Assert.True(error.IsTransient);
        Assert.Null(error.RetryAfter);
        Assert.Empty(_sendGrid.Mails);
    }

    [Fact]
    public async Task SendGrid_down_is_transient()
    {
        var host = await HostAsync();
        _sendGrid.Down = true;

        var error = await Assert.ThrowsAsync<ProviderException>(() => host.SendAsync("email", Purchase(Model.Purchased())));

        Assert.True(error.IsTransient);
        _sendGrid.Down = false;
        Assert.Equal(NotificationOutcome.Sent, await host.SendAsync("email", Purchase(Model.Purchased())));
    }

    [Fact]
    public async Task A_dropped_connection_is_transient()
    {
        var host = await HostAsync();
        _sendGrid.FailNextWith(context =>
        {
            context.Abort();
            return Task.CompletedTask;
        });

        var error = await Assert.ThrowsAsync<ProviderException>(() => host.SendAsync("email", Purchase(Model.Purchased())));

        Assert.True(error.IsTransient);
        Assert.Contains("connection failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_answer_within_the_request_timeout_is_transient()
    {
        var host = await HostAsync(requestTimeout: TimeSpan.FromMilliseconds(300));
        _sendGrid.FailNextWith(context => Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted));
        var watch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<ProviderException>(() => host.SendAsync("email", Purchase(Model.Purchased())));

        Assert.True(error.IsTransient);
        Assert.Contains("request timeout", error.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"took {watch.Elapsed}");
        Assert.Empty(_sendGrid.Mails);
    }

    [Fact]
    public async Task A_cancelled_send_is_a_cancellation_not_a_provider_failure()
    {
        var host = await HostAsync();
        _sendGrid.FailNextWith(context => Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted));
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var error = await Record.ExceptionAsync(() => host.SendAsync("email", Purchase(Model.Purchased()), cancellation.Token));

        Assert.IsAssignableFrom<OperationCanceledException>(error);
    }

    [Fact]
    public async Task Host_templates_from_the_configured_directory_are_used()
    {
        var folder = Directory.CreateTempSubdirectory("openmavn-host-templates-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "voucher.purchased.de.tmpl"), """
                === subject ===
                [Host] {{quantity}} × {{campaignName}}
                === push ===
                Host push
                === text ===
                Host-Text {{codes}}
                === html ===
                <p>Host-HTML {{merchantName}}</p>{{{qrCodes}}}
                """);
            var host = await HostAsync(templatesDirectory: folder);

            await host.SendAsync("email", Purchase(Model.Purchased()));
            await host.SendAsync("email", Purchase(Model.Purchased(), language: "fr"));

            var (german, french) = (_sendGrid.Mails[0], _sendGrid.Mails[1]);
            Assert.Equal("[Host] 2 × Brunch", german.Subject);
            Assert.Equal("Host-Text ABCD-EFGH-JKMN-PQRS-TVW0\n", german.Text);
            Assert.Contains("<p>Host-HTML Caf&#233; &lt;Rosa&gt;</p>", german.Html, StringComparison.Ordinal);
            Assert.Contains("<!DOCTYPE html>", german.Html, StringComparison.Ordinal);
            Assert.Contains($"cid:{Assert.Single(german.Attachments).ContentId}", german.Html, StringComparison.Ordinal);

            // Not overridden in French: the built-in template.
            Assert.DoesNotContain("[Host]", french.Subject, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
