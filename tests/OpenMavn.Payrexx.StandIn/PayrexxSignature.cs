using System.Security.Cryptography;
using System.Text;

namespace OpenMavn.Payrexx.StandIn;

/// <summary>The legacy <c>ApiSignature</c>: Base64(HMAC-SHA256(key = UTF-8 secret, data = the PHP query string)).</summary>
public static class PayrexxSignature
{
    /// <summary>Signs an already built query string (see <see cref="PhpQuery.Build"/>).</summary>
    public static string Compute(string secret, string queryString)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(queryString);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(queryString));
        return Convert.ToBase64String(mac);
    }

    /// <summary>Whether <paramref name="signature"/> signs <paramref name="queryString"/> with <paramref name="secret"/> (constant time).</summary>
    public static bool Verify(string secret, string queryString, string? signature)
    {
        if (signature is null)
        {
            return false;
        }

        var expected = Encoding.UTF8.GetBytes(Compute(secret, queryString));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.UTF8.GetBytes(signature));
    }
}
