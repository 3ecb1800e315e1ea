namespace OpenMavn.Notifications.StandIn;

/// <summary>base64url without padding (RFC 7515 §2), as JWTs and the stand-ins' random ids use it.</summary>
internal static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Decodes strict base64url: only <c>A–Z a–z 0–9 - _</c>, no padding; null when it is not.</summary>
    public static byte[]? TryDecode(string text)
    {
        if (text.Length % 4 == 1 || text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            return null;
        }

        var standard = text.Replace('-', '+').Replace('_', '/');
        standard += new string('=', (4 - (standard.Length % 4)) % 4);
        try
        {
            return Convert.FromBase64String(standard);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
