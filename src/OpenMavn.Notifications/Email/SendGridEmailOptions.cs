using Microsoft.Extensions.Options;

namespace OpenMavn.Notifications.Email;

/// <summary>Options of the SendGrid email sender (<c>OpenMavn:Notifications:SendGrid</c>).</summary>
public sealed class SendGridEmailOptions
{
    /// <summary>The SendGrid API key (a secret: keep it in user secrets or the environment, never in appsettings.json).</summary>
    public string ApiKey { get; set; } = "";

    /// <summary>Another API endpoint (a regional one, a proxy or a local stand-in), e.g. <c>http://127.0.0.1:5099</c>. Empty: SendGrid's.</summary>
    public string? Host { get; set; }

    /// <summary>The sender address (a verified SendGrid sender).</summary>
    public string FromEmail { get; set; } = "";

    /// <summary>The sender's display name. Default <c>OpenMavn</c>.</summary>
    public string FromName { get; set; } = "OpenMavn";

    /// <summary>Where replies go, if not to <see cref="FromEmail"/>.</summary>
    public string? ReplyTo { get; set; }

    /// <summary>Timeout of one request. Default 20 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(20);
}

internal sealed class SendGridEmailOptionsValidator : IValidateOptions<SendGridEmailOptions>
{
    public ValidateOptionsResult Validate(string? name, SendGridEmailOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ApiKey))
        {
            failures.Add("OpenMavn:Notifications:SendGrid:ApiKey is required.");
        }

        if (options.Host is { Length: > 0 } host && !NotificationOptionsChecks.IsHttpUrl(host))
        {
            failures.Add("OpenMavn:Notifications:SendGrid:Host must be an absolute http(s) URL.");
        }

        if (!IsEmail(options.FromEmail))
        {
            failures.Add("OpenMavn:Notifications:SendGrid:FromEmail must be an email address.");
        }

        if (options.ReplyTo is { Length: > 0 } replyTo && !IsEmail(replyTo))
        {
            failures.Add("OpenMavn:Notifications:SendGrid:ReplyTo must be an email address.");
        }

        if (options.RequestTimeout <= TimeSpan.Zero || options.RequestTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add("OpenMavn:Notifications:SendGrid:RequestTimeout must be positive and at most 5 minutes.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsEmail(string? value) => value is { Length: > 2 and <= 254 } && value.IndexOf('@', StringComparison.Ordinal) is > 0 and var at && at < value.Length - 1 && !value.Any(char.IsWhiteSpace);
}
