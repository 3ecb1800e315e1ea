namespace OpenMavn.AspNetCore;

/// <summary>Options of the HTTP APIs (<c>OpenMavn:Api</c>).</summary>
public sealed class OpenMavnApiOptions
{
    /// <summary>Sign-in and sign-up attempts per IP and minute. Default 10.</summary>
    public int SignInPermitsPerMinute { get; set; } = 10;

    /// <summary>Code lookups and redemptions per user (or API key) and minute. Default 30.</summary>
    public int CodeLookupsPerMinutePerUser { get; set; } = 30;

    /// <summary>Code lookups and redemptions per IP and minute. Default 60.</summary>
    public int CodeLookupsPerMinutePerIp { get; set; } = 60;

    /// <summary>Largest request body in bytes (images are limited separately to 2 MB). Default 64 KiB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Email of a platform operator to create at start-up (with <see cref="AdminPassword"/>).</summary>
    public string? AdminEmail { get; set; }

    /// <summary>Password of that operator. Keep it in user secrets or the environment, never in appsettings.json.</summary>
    public string? AdminPassword { get; set; }

    /// <summary>
    /// Link in staff invitations to people without an account; <c>{email}</c> and <c>{code}</c> are replaced (the
    /// code is an Identity password-reset code for <c>POST /api/auth/resetPassword</c>).
    /// </summary>
    public string InvitationUrl { get; set; } = "https://localhost/invitations/accept?email={email}&code={code}";

    /// <summary>Seed a demo merchant, campaign and customer at start-up (Development only).</summary>
    public bool SeedDemo { get; set; }
}
