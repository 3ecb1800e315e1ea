using System.Net;
using SendGrid;
using SendGrid.Helpers.Mail;
using SendGridAddress = SendGrid.Helpers.Mail.EmailAddress;

namespace OpenMavn.Notifications.StandIn.Tests;

/// <summary>The official SendGrid client (the package the notifications code may use) is accepted by the stand-in as is.</summary>
public sealed class SendGridClientTests
{
    [Fact]
    public async Task A_mail_built_with_the_SendGrid_package_is_accepted_and_recorded()
    {
        await using var sendGrid = await SendGridStandIn.StartAsync("SG.client-test");
        var client = new SendGridClient(new SendGridClientOptions
        {
            ApiKey = "SG.client-test",
            Host = sendGrid.BaseUrl.ToString().TrimEnd('/'),
        });
        var message = MailHelper.CreateSingleEmail(
            new SendGridAddress("gutscheine@blumenladen.ch", "Blumenladen"),
            new SendGridAddress("anna@example.ch", "Anna"),
            "Ihr Gutschein",
            "Grüezi Anna",
            "<p>Grüezi Anna</p>");
        message.AddAttachment("gutschein.pdf", Convert.ToBase64String("%PDF"u8.ToArray()), "application/pdf");
        message.AddCustomArg("order", "ORD-7");
        message.AddCategory("voucher");

        var response = await client.SendEmailAsync(message);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var mail = Assert.Single(sendGrid.Mails);
        Assert.Equal([new EmailAddress("anna@example.ch", "Anna")], mail.To);
        Assert.Equal(("Ihr Gutschein", "Grüezi Anna", "<p>Grüezi Anna</p>"), (mail.Subject, mail.Text, mail.Html));
        Assert.Equal("ORD-7", mail.CustomArgs["order"]);
        Assert.Equal("gutschein.pdf", Assert.Single(mail.Attachments).Filename);
        Assert.Equal(["voucher"], mail.Categories);
        Assert.Equal(mail.MessageId, Assert.Single(response.Headers.GetValues("X-Message-Id")));
    }

    [Fact]
    public async Task The_SendGrid_package_sees_a_wrong_key_as_401()
    {
        await using var sendGrid = await SendGridStandIn.StartAsync("SG.right");
        var client = new SendGridClient(new SendGridClientOptions { ApiKey = "SG.wrong", Host = sendGrid.BaseUrl.ToString().TrimEnd('/') });

        var response = await client.SendEmailAsync(MailHelper.CreateSingleEmail(
            new SendGridAddress("a@example.ch"), new SendGridAddress("b@example.ch"), "s", "t", null));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(sendGrid.Mails);
    }
}
