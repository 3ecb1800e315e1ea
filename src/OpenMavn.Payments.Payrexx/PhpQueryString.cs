using System.Collections;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace OpenMavn.Payments.Payrexx;

/// <summary>How <see cref="PhpQueryString"/> percent-encodes keys and values.</summary>
public enum PhpQueryEncoding
{
    /// <summary>
    /// PHP <c>urlencode</c> / <c>http_build_query($p, '', '&amp;')</c>: keeps <c>A–Z a–z 0–9 - _ .</c>, space → <c>+</c>,
    /// every other UTF-8 byte → <c>%XX</c> (uppercase). What Payrexx signs.
    /// </summary>
    Rfc1738 = 0,

    /// <summary>PHP <c>rawurlencode</c> / <c>PHP_QUERY_RFC3986</c>: keeps <c>A–Z a–z 0–9 - _ . ~</c>, space → <c>%20</c>.</summary>
    Rfc3986 = 1,
}

/// <summary>
/// Serialises parameters exactly like PHP <c>http_build_query</c>, which the Payrexx <c>ApiSignature</c> is computed over.
/// None of .NET's stock encoders matches it (<c>WebUtility.UrlEncode</c> leaves <c>( ) * !</c>,
/// <c>FormUrlEncodedContent</c> leaves <c>~</c>, <c>HttpUtility.UrlEncode</c> writes lowercase hex).
/// </summary>
/// <remarks>
/// Values: <see cref="string"/>; <see cref="bool"/> (<c>1</c>/<c>0</c>); integers (invariant digits); <see cref="decimal"/>
/// (invariant); <see cref="Uri"/> (its original string); a sequence of <see cref="KeyValuePair{TKey,TValue}"/> of string
/// and object (nested: <c>fields[email][value]</c>); any other sequence (a list: <c>pm[0]</c>, <c>pm[1]</c>).
/// A null value or an empty sequence is left out; <c>""</c> gives <c>key=</c>. Floating point is refused: amounts are integers.
/// </remarks>
public static class PhpQueryString
{
    /// <summary>Builds the query string of <paramref name="parameters"/>, in the order given (PHP does not sort).</summary>
    /// <param name="parameters">The parameters, in order.</param>
    /// <param name="encoding">RFC 1738 (what is signed, and the GET query) or RFC 3986 (the POST body).</param>
    public static string Build(IEnumerable<KeyValuePair<string, object?>> parameters, PhpQueryEncoding encoding = PhpQueryEncoding.Rfc1738)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var builder = new StringBuilder();
        foreach (var (key, value) in parameters)
        {
            Append(builder, key, value, encoding);
        }

        return builder.ToString();
    }

    /// <summary>Percent-encodes one string like PHP <c>urlencode</c> (RFC 1738) or <c>rawurlencode</c> (RFC 3986).</summary>
    public static string Encode(string value, PhpQueryEncoding encoding = PhpQueryEncoding.Rfc1738)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(value.Length);
        AppendEncoded(builder, value, encoding);
        return builder.ToString();
    }

    /// <summary>
    /// The Payrexx <c>ApiSignature</c>: <c>Base64(HMAC-SHA256(key: UTF-8 secret, data: query string))</c>.
    /// Pass the RFC 1738 query string of every parameter except <c>instance</c> and <c>ApiSignature</c>
    /// (the empty string when there are none).
    /// </summary>
    public static string Sign(string queryString, string secret)
    {
        ArgumentNullException.ThrowIfNull(queryString);
        ArgumentNullException.ThrowIfNull(secret);
        return Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(queryString)));
    }

    private static void Append(StringBuilder builder, string key, object? value, PhpQueryEncoding encoding)
    {
        switch (value)
        {
            case null:
                return;
            case string s:
                AppendPair(builder, key, s, encoding);
                return;
            case bool b:
                AppendPair(builder, key, b ? "1" : "0", encoding);
                return;
            case double or float or Half:
                throw new ArgumentException($"Parameter '{key}' is floating point; send integers (minor units) or strings.", nameof(value));
            case Uri uri:
                AppendPair(builder, key, uri.OriginalString, encoding);
                return;
            case IEnumerable<KeyValuePair<string, object?>> nested:
                foreach (var (childKey, childValue) in nested)
                {
                    Append(builder, $"{key}[{childKey}]", childValue, encoding);
                }

                return;
            case IEnumerable list:
                var index = 0;
                foreach (var item in list)
                {
                    Append(builder, string.Create(CultureInfo.InvariantCulture, $"{key}[{index}]"), item, encoding);
                    index++;
                }

                return;
            case IFormattable formattable:
                AppendPair(builder, key, formattable.ToString(null, CultureInfo.InvariantCulture), encoding);
                return;
            default:
                AppendPair(builder, key, value.ToString() ?? "", encoding);
                return;
        }
    }

    private static void AppendPair(StringBuilder builder, string key, string value, PhpQueryEncoding encoding)
    {
        if (builder.Length > 0)
        {
            builder.Append('&');
        }

        AppendEncoded(builder, key, encoding);
        builder.Append('=');
        AppendEncoded(builder, value, encoding);
    }

    private static void AppendEncoded(StringBuilder builder, string value, PhpQueryEncoding encoding)
    {
        const string Hex = "0123456789ABCDEF";
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.'
                || (c == '~' && encoding == PhpQueryEncoding.Rfc3986))
            {
                builder.Append(c);
            }
            else if (c == ' ' && encoding == PhpQueryEncoding.Rfc1738)
            {
                builder.Append('+');
            }
            else
            {
                builder.Append('%').Append(Hex[b >> 4]).Append(Hex[b & 0xF]);
            }
        }
    }
}
