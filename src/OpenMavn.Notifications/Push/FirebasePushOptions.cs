using Microsoft.Extensions.Options;

namespace OpenMavn.Notifications.Push;

/// <summary>Options of the Firebase Cloud Messaging push sender (<c>OpenMavn:Notifications:Firebase</c>).</summary>
public sealed class FirebasePushOptions
{
    /// <summary>The Firebase project id.</summary>
    public string ProjectId { get; set; } = "";

    /// <summary>Path to the service account's JSON key file. Either this or <see cref="ServiceAccountJson"/>.</summary>
    public string? ServiceAccountFile { get; set; }

    /// <summary>The service account's JSON key itself (a secret: from the environment or a secret store).</summary>
    public string? ServiceAccountJson { get; set; }

    /// <summary>
    /// The FCM endpoint. Default <c>https://fcm.googleapis.com</c>; change it for a proxy or a local stand-in. The OAuth
    /// token endpoint is the key file's <c>token_uri</c>.
    /// </summary>
    public string Endpoint { get; set; } = "https://fcm.googleapis.com";

    /// <summary>Timeout of one request. Default 20 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(20);
}

internal sealed class FirebasePushOptionsValidator : IValidateOptions<FirebasePushOptions>
{
    public ValidateOptionsResult Validate(string? name, FirebasePushOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ProjectId) || !options.ProjectId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
        {
            failures.Add("OpenMavn:Notifications:Firebase:ProjectId is required (the Firebase project id).");
        }

        var hasFile = !string.IsNullOrWhiteSpace(options.ServiceAccountFile);
        var hasJson = !string.IsNullOrWhiteSpace(options.ServiceAccountJson);
        if (hasFile == hasJson)
        {
            failures.Add("Set exactly one of OpenMavn:Notifications:Firebase:ServiceAccountFile and ServiceAccountJson.");
        }
        else if (hasFile && !File.Exists(options.ServiceAccountFile))
        {
            failures.Add($"OpenMavn:Notifications:Firebase:ServiceAccountFile '{options.ServiceAccountFile}' does not exist.");
        }

        if (!NotificationOptionsChecks.IsHttpUrl(options.Endpoint))
        {
            failures.Add("OpenMavn:Notifications:Firebase:Endpoint must be an absolute http(s) URL.");
        }

        if (options.RequestTimeout <= TimeSpan.Zero || options.RequestTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add("OpenMavn:Notifications:Firebase:RequestTimeout must be positive and at most 5 minutes.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
