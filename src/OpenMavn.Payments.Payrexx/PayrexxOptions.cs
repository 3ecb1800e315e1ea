using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace OpenMavn.Payments.Payrexx;

/// <summary>How requests prove the merchant's API secret.</summary>
public enum PayrexxAuthScheme
{
    /// <summary>An <c>X-API-KEY</c> header carrying the secret (the official SDK since v2.0.0; recommended). Default.</summary>
    ApiKey = 0,

    /// <summary>The legacy <c>ApiSignature</c> parameter: Base64 HMAC-SHA256 of the PHP query string (SDK ≤ 1.8).</summary>
    Signature = 1,
}

/// <summary>Options of the Payrexx payment provider (<c>OpenMavn:Payments:Payrexx</c>).</summary>
public sealed class PayrexxOptions
{
    /// <summary>API base URL. Default <c>https://api.payrexx.com</c>; change it for white-label platforms or a local stand-in.</summary>
    public string BaseUrl { get; set; } = "https://api.payrexx.com";

    /// <summary>API version (<c>1.15</c> or later: failures carry real HTTP status codes). Default <c>1.15</c>.</summary>
    public string ApiVersion { get; set; } = "1.15";

    /// <summary>Authentication scheme. Default <see cref="PayrexxAuthScheme.ApiKey"/>.</summary>
    public PayrexxAuthScheme AuthScheme { get; set; } = PayrexxAuthScheme.ApiKey;

    /// <summary>
    /// Whether payments Payrexx flags as test (<c>invoice.test = 1</c>) may issue vouchers.
    /// Unset: false in the Production environment, true elsewhere.
    /// </summary>
    public bool? AllowTestPayments { get; set; }

    /// <summary>Timeout of one HTTP request. Default 15 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>Validates <see cref="PayrexxOptions"/> at start-up and resolves <see cref="PayrexxOptions.AllowTestPayments"/>.</summary>
internal sealed class PayrexxOptionsValidator(IServiceProvider services) : IValidateOptions<PayrexxOptions>, IPostConfigureOptions<PayrexxOptions>
{
    public void PostConfigure(string? name, PayrexxOptions options)
    {
        options.AllowTestPayments ??= !IsProduction(services);
    }

    public ValidateOptionsResult Validate(string? name, PayrexxOptions options)
    {
        var failures = new List<string>();

        // On Linux and macOS "/api" parses as an absolute file:// URI: require http or https explicitly.
        if (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var baseUrl)
            || (baseUrl.Scheme != Uri.UriSchemeHttps && baseUrl.Scheme != Uri.UriSchemeHttp)
            || !string.IsNullOrEmpty(baseUrl.Query) || !string.IsNullOrEmpty(baseUrl.Fragment))
        {
            failures.Add("OpenMavn:Payments:Payrexx:BaseUrl must be an absolute http(s) URL without query or fragment.");
        }

        if (!IsVersion(options.ApiVersion))
        {
            failures.Add("OpenMavn:Payments:Payrexx:ApiVersion must look like 1.15 (major.minor, digits only, no leading v).");
        }

        if (!Enum.IsDefined(options.AuthScheme))
        {
            failures.Add("OpenMavn:Payments:Payrexx:AuthScheme must be ApiKey or Signature.");
        }

        if (options.RequestTimeout <= TimeSpan.Zero || options.RequestTimeout > TimeSpan.FromMinutes(10))
        {
            failures.Add("OpenMavn:Payments:Payrexx:RequestTimeout must be positive and at most 10 minutes.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static bool IsVersion(string? version)
    {
        if (string.IsNullOrEmpty(version))
        {
            return false;
        }

        var parts = version.Split('.');
        return parts.Length == 2
            && parts.All(p => p.Length is > 0 and <= 4 && p.All(char.IsAsciiDigit))
            && int.Parse(parts[0], CultureInfo.InvariantCulture) >= 1;
    }

    private static bool IsProduction(IServiceProvider services)
    {
        var environment = services.GetService<IHostEnvironment>()?.EnvironmentName
            ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT")
            ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
            ?? Environments.Production;
        return string.Equals(environment, Environments.Production, StringComparison.OrdinalIgnoreCase);
    }
}
