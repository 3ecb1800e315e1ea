using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenMavn.Core.Payments;

namespace OpenMavn.Payments.Payrexx;

/// <summary>
/// Reads a Payrexx webhook, <c>{"transaction":{…}}</c> as JSON or as PHP form fields
/// (<c>transaction[invoice][referenceId]=…</c>), into a hint. Webhooks are not signed: the hint is only a pointer
/// that Core verifies by reading the gateway from Payrexx.
/// </summary>
internal static class PayrexxWebhooks
{
    private const int MaxFields = 2000;

    /// <summary>Parses the webhook; null when it names no payment or is not a Payrexx webhook. Never throws on input.</summary>
    public static PaymentWebhookHint? Parse(string? contentType, ReadOnlySpan<byte> body)
    {
        var fields = Flatten(contentType, body);
        if (fields is null)
        {
            return null;
        }

        var gatewayId = Field(fields, "transaction.invoice.paymentRequestId");
        var reference = Field(fields, "transaction.invoice.referenceId") ?? Field(fields, "transaction.referenceId");
        Guid? orderId = Guid.TryParse(reference, out var parsed) ? parsed : null;
        if (gatewayId is null && orderId is null)
        {
            return null;
        }

        var uuid = Field(fields, "transaction.uuid") ?? Field(fields, "transaction.id");
        if (uuid is null)
        {
            // Without a transaction identity the delivery cannot be deduplicated: not a webhook we understand.
            return null;
        }

        var status = Field(fields, "transaction.status") ?? "";
        return new PaymentWebhookHint(gatewayId, orderId, $"{uuid}:{status}");
    }

    private static string? Field(Dictionary<string, string> fields, string path) =>
        fields.TryGetValue(path, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    internal static Dictionary<string, string>? Flatten(string? contentType, ReadOnlySpan<byte> body)
    {
        var kind = contentType?.ToLowerInvariant() ?? "";
        var json = kind.Contains("json", StringComparison.Ordinal)
            || (!kind.Contains("x-www-form-urlencoded", StringComparison.Ordinal) && LooksLikeJson(body));
        try
        {
            return json ? FlattenJson(body) : FlattenForm(body);
        }
        catch (Exception ex) when (ex is JsonException or DecoderFallbackException or ArgumentException or FormatException)
        {
            return null;
        }
    }

    private static bool LooksLikeJson(ReadOnlySpan<byte> body)
    {
        var trimmed = body.TrimStart(" \t\r\n"u8);
        if (trimmed.StartsWith(new byte[] { 0xEF, 0xBB, 0xBF }))
        {
            trimmed = trimmed[3..].TrimStart(" \t\r\n"u8);
        }

        return !trimmed.IsEmpty && trimmed[0] == (byte)'{';
    }

    private static Dictionary<string, string>? FlattenJson(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        using var document = JsonDocument.ParseValue(ref reader);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        Walk(document.RootElement, "", fields);
        return fields;
    }

    private static void Walk(JsonElement element, string path, Dictionary<string, string> fields)
    {
        if (fields.Count >= MaxFields)
        {
            return;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Walk(property.Value, path.Length == 0 ? property.Name : path + "." + property.Name, fields);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, path + "." + index.ToString(CultureInfo.InvariantCulture), fields);
                    index++;
                }

                break;
            case JsonValueKind.String:
                fields[path] = element.GetString()!;
                break;
            case JsonValueKind.Number:
                fields[path] = element.GetRawText();
                break;
            case JsonValueKind.True or JsonValueKind.False:
                fields[path] = element.ValueKind == JsonValueKind.True ? "1" : "0";
                break;
        }
    }

    /// <summary>PHP's reading of <c>a[b][c]=v&amp;…</c>: <c>+</c> is a space, <c>%XX</c> a byte, brackets nest.</summary>
    private static Dictionary<string, string> FlattenForm(ReadOnlySpan<byte> body)
    {
        var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            if (fields.Count >= MaxFields)
            {
                break;
            }

            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Decode(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Decode(pair[(equals + 1)..]);
            var path = KeyPath(key);
            if (path is not null)
            {
                fields[path] = value;
            }
        }

        return fields;
    }

    private static string? KeyPath(string key)
    {
        var open = key.IndexOf('[', StringComparison.Ordinal);
        if (open < 0)
        {
            return key.Length == 0 ? null : key;
        }

        var path = new StringBuilder(key[..open]);
        var rest = key.AsSpan(open);
        while (rest.Length > 0 && rest[0] == '[')
        {
            var close = rest.IndexOf(']');
            if (close < 0)
            {
                break;
            }

            path.Append('.').Append(rest[1..close]);
            rest = rest[(close + 1)..];
        }

        return path.Length == 0 ? null : path.ToString();
    }

    private static string Decode(string value)
    {
        var bytes = new List<byte>(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '+')
            {
                bytes.Add((byte)' ');
            }
            else if (c == '%' && i + 2 < value.Length && IsHex(value[i + 1]) && IsHex(value[i + 2]))
            {
                bytes.Add(byte.Parse(value.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 2;
            }
            else if (char.IsHighSurrogate(c) && i + 1 < value.Length)
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(value.Substring(i, 2)));
                i++;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
            }
        }

        return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes.ToArray());
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);
}
