using System.Text.Json;
using System.Text.RegularExpressions;

namespace OpenMavn.Notifications.StandIn;

/// <summary>
/// Reads a v3 Mail Send body the way SendGrid validates it, collecting every violation (SendGrid answers them
/// all at once) with the field as SendGrid names it (<c>personalizations.0.to.1.email</c>).
/// </summary>
internal static partial class SendGridMailValidator
{
    public const int MaxPersonalizations = 1000;
    public const int MaxRecipients = 1000;
    public const int MaxCategories = 10;
    public const int MaxCategoryLength = 255;

    /// <summary>Validates <paramref name="body"/>; returns the mails (one per personalization) or the violations.</summary>
    public static (IReadOnlyList<SentMail> Mails, IReadOnlyList<(string Message, string? Field)> Errors) Read(string body, string messageId)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException)
        {
            return ([], [("Bad Request", null)]);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return ([], [("Bad Request", null)]);
            }

            var errors = new List<(string Message, string? Field)>();
            var reader = new Reader(errors);
            var mails = reader.ReadMail(root, body, messageId);
            return errors.Count == 0 ? (mails, []) : ([], errors);
        }
    }

    /// <summary>An address SendGrid would take: a local part without spaces or brackets, a dotted domain.</summary>
    [GeneratedRegex(@"^[^\s@<>()\[\],;:""]+@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+[\p{L}\p{N}]{2,}$", RegexOptions.CultureInvariant)]
    private static partial Regex EmailPattern();

    private sealed class Reader(List<(string Message, string? Field)> errors)
    {
        private void Fail(string message, string? field) => errors.Add((message, field));

        public List<SentMail> ReadMail(JsonElement root, string body, string messageId)
        {
            var from = ReadFrom(root);
            var replyTo = root.TryGetProperty("reply_to", out var replyToJson)
                ? ReadAddress(replyToJson, "reply_to", "The reply_to email does not contain a valid address.")
                : null;
            var templateId = OptionalString(root, "template_id", "template_id");
            var hasTemplate = !string.IsNullOrEmpty(templateId);
            var subject = OptionalString(root, "subject", "subject");
            var (text, html) = ReadContent(root, hasTemplate);
            var attachments = ReadAttachments(root);
            var categories = ReadCategories(root);
            var customArgs = ReadStringMap(root, "custom_args", "custom_args");
            var headers = ReadStringMap(root, "headers", "headers");
            var sendAt = OptionalLong(root, "send_at", "send_at");

            var personalizations = ReadPersonalizations(root);
            if (!hasTemplate && string.IsNullOrEmpty(subject) && (personalizations.Count == 0 || personalizations.Any(p => string.IsNullOrEmpty(p.Subject))))
            {
                Fail("The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.", "subject");
            }

            if (errors.Count > 0 || from is null)
            {
                return [];
            }

            return
            [
                .. personalizations.Select(p => new SentMail(
                    messageId,
                    p.To,
                    p.Cc,
                    p.Bcc,
                    p.From ?? from,
                    replyTo,
                    string.IsNullOrEmpty(p.Subject) ? subject : p.Subject,
                    text,
                    html,
                    attachments,
                    Overlay(customArgs, p.CustomArgs),
                    categories,
                    Overlay(headers, p.Headers),
                    templateId,
                    p.SendAt ?? sendAt,
                    body)),
            ];
        }

        private EmailAddress? ReadFrom(JsonElement root)
        {
            if (!root.TryGetProperty("from", out var from) || from.ValueKind != JsonValueKind.Object)
            {
                Fail("The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.", "from");
                return null;
            }

            return ReadAddress(from, "from", "The from email does not contain a valid address.");
        }

        private List<Personalization> ReadPersonalizations(JsonElement root)
        {
            if (!root.TryGetProperty("personalizations", out var array) || array.ValueKind != JsonValueKind.Array || array.GetArrayLength() == 0)
            {
                Fail("The personalizations field is required and must have at least one personalization.", "personalizations");
                return [];
            }

            var count = array.GetArrayLength();
            if (count > MaxPersonalizations)
            {
                Fail($"The personalization block is limited to {MaxPersonalizations} personalizations per API request. You have provided {count} personalizations. Please consider splitting this into multiple requests and resending your request.", "personalizations");
                return [];
            }

            var result = new List<Personalization>();
            var index = 0;
            foreach (var item in array.EnumerateArray())
            {
                var path = $"personalizations.{index++}";
                if (item.ValueKind != JsonValueKind.Object)
                {
                    Fail("Each personalization must be an object.", path);
                    continue;
                }

                var to = ReadRecipients(item, path, "to", required: true);
                var cc = ReadRecipients(item, path, "cc", required: false);
                var bcc = ReadRecipients(item, path, "bcc", required: false);
                CheckUnique(path, to, cc, bcc);
                var from = item.TryGetProperty("from", out var fromJson)
                    ? ReadAddress(fromJson, $"{path}.from", "The from email does not contain a valid address.")
                    : null;
                result.Add(new Personalization(
                    to,
                    cc,
                    bcc,
                    from,
                    OptionalString(item, "subject", $"{path}.subject"),
                    ReadStringMap(item, "custom_args", $"{path}.custom_args"),
                    ReadStringMap(item, "headers", $"{path}.headers"),
                    OptionalLong(item, "send_at", $"{path}.send_at")));
            }

            if (result.Sum(p => p.To.Count + p.Cc.Count + p.Bcc.Count) > MaxRecipients)
            {
                Fail($"There is a limit of {MaxRecipients} total recipients (to + cc + bcc) per request.", "personalizations");
            }

            return result;
        }

        private List<EmailAddress> ReadRecipients(JsonElement personalization, string path, string name, bool required)
        {
            var field = $"{path}.{name}";
            if (!personalization.TryGetProperty(name, out var array))
            {
                if (required)
                {
                    Fail("The to array is required for all personalization objects, and must have at least one email object with a valid email address.", field);
                }

                return [];
            }

            if (array.ValueKind != JsonValueKind.Array || (required && array.GetArrayLength() == 0))
            {
                Fail(required
                    ? "The to array is required for all personalization objects, and must have at least one email object with a valid email address."
                    : $"The {name} field must be an array of email objects.", field);
                return [];
            }

            var result = new List<EmailAddress>();
            var index = 0;
            foreach (var item in array.EnumerateArray())
            {
                if (ReadAddress(item, $"{field}.{index++}", "Does not contain a valid address.") is { } address)
                {
                    result.Add(address);
                }
            }

            return result;
        }

        private void CheckUnique(string path, List<EmailAddress> to, List<EmailAddress> cc, List<EmailAddress> bcc)
        {
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, list) in new[] { ("to", to), ("cc", cc), ("bcc", bcc) })
            {
                foreach (var address in list)
                {
                    if (!seen.Add(address.Email))
                    {
                        Fail($"Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [{address.Email}] in the {path}.{name} field.", path);
                        return;
                    }
                }
            }
        }

        private EmailAddress? ReadAddress(JsonElement json, string path, string invalidMessage)
        {
            if (json.ValueKind != JsonValueKind.Object)
            {
                Fail("An email object must have at least an email address and may also contain a name, e.g. {\"email\": \"example@example.com\"}.", path);
                return null;
            }

            if (!json.TryGetProperty("email", out var email) || email.ValueKind != JsonValueKind.String || !EmailPattern().IsMatch(email.GetString()!))
            {
                Fail(invalidMessage, $"{path}.email");
                return null;
            }

            string? name = null;
            if (json.TryGetProperty("name", out var nameJson))
            {
                if (nameJson.ValueKind != JsonValueKind.String)
                {
                    Fail("The name must be a string.", $"{path}.name");
                    return null;
                }

                name = nameJson.GetString();
            }

            return new EmailAddress(email.GetString()!, name);
        }

        private (string? Text, string? Html) ReadContent(JsonElement root, bool hasTemplate)
        {
            const string required = "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.";
            if (!root.TryGetProperty("content", out var array))
            {
                if (!hasTemplate)
                {
                    Fail(required, "content");
                }

                return (null, null);
            }

            if (array.ValueKind != JsonValueKind.Array || (array.GetArrayLength() == 0 && !hasTemplate))
            {
                Fail(required, "content");
                return (null, null);
            }

            string? text = null, html = null;
            var types = new List<string>();
            var index = 0;
            foreach (var item in array.EnumerateArray())
            {
                var path = $"content.{index++}";
                if (item.ValueKind != JsonValueKind.Object)
                {
                    Fail("Each content block must be an object with a type and a value.", path);
                    continue;
                }

                var type = item.TryGetProperty("type", out var typeJson) && typeJson.ValueKind == JsonValueKind.String ? typeJson.GetString() : null;
                var value = item.TryGetProperty("value", out var valueJson) && valueJson.ValueKind == JsonValueKind.String ? valueJson.GetString() : null;
                if (string.IsNullOrEmpty(type))
                {
                    Fail("The content type must be a string at least one character in length.", $"{path}.type");
                }

                if (string.IsNullOrEmpty(value))
                {
                    Fail("The content value must be a string at least one character in length.", $"{path}.value");
                }

                if (string.IsNullOrEmpty(type) || string.IsNullOrEmpty(value))
                {
                    continue;
                }

                types.Add(type.ToLowerInvariant());
                if (string.Equals(type, "text/plain", StringComparison.OrdinalIgnoreCase))
                {
                    text = value;
                }
                else if (string.Equals(type, "text/html", StringComparison.OrdinalIgnoreCase))
                {
                    html = value;
                }
            }

            if (types.Count(t => t == "text/plain") > 1 || types.Count(t => t == "text/html") > 1)
            {
                Fail("If present, text/plain and text/html may only be provided once.", "content");
            }
            else
            {
                // The rank of each block must not go down: text/plain (0), then text/html (1), then the rest (2).
                var ranks = types.Select(t => t switch { "text/plain" => 0, "text/html" => 1, _ => 2 }).ToList();
                if (ranks.Zip(ranks.Skip(1)).Any(pair => pair.First > pair.Second))
                {
                    Fail("If present, text/plain must be first, followed by text/html, followed by any other content.", "content");
                }
            }

            return (text, html);
        }

        private List<SentAttachment> ReadAttachments(JsonElement root)
        {
            if (!root.TryGetProperty("attachments", out var array))
            {
                return [];
            }

            if (array.ValueKind != JsonValueKind.Array)
            {
                Fail("The attachments field must be an array of attachment objects.", "attachments");
                return [];
            }

            var result = new List<SentAttachment>();
            var index = 0;
            foreach (var item in array.EnumerateArray())
            {
                var path = $"attachments.{index++}";
                if (item.ValueKind != JsonValueKind.Object)
                {
                    Fail("Each attachment must be an object.", path);
                    continue;
                }

                var failures = errors.Count;
                byte[]? bytes = null;
                var content = OptionalString(item, "content", $"{path}.content");
                if (string.IsNullOrEmpty(content))
                {
                    Fail("The attachment content is required.", $"{path}.content");
                }
                else
                {
                    bytes = DecodeBase64(content);
                    if (bytes is null)
                    {
                        Fail("The attachment content must be base64 encoded.", $"{path}.content");
                    }
                }

                var filename = OptionalString(item, "filename", $"{path}.filename");
                if (string.IsNullOrEmpty(filename))
                {
                    Fail("The attachment filename parameter is required.", $"{path}.filename");
                }

                var type = OptionalString(item, "type", $"{path}.type");
                var contentId = OptionalString(item, "content_id", $"{path}.content_id");
                var disposition = OptionalString(item, "disposition", $"{path}.disposition") ?? "attachment";
                if (disposition is not ("attachment" or "inline"))
                {
                    Fail("The disposition of your attachment can be either \"inline\" or \"attachment\".", $"{path}.disposition");
                }
                else if (disposition == "inline" && string.IsNullOrEmpty(contentId))
                {
                    Fail("The content_id parameter is required if disposition is set to inline.", $"{path}.content_id");
                }

                if (errors.Count == failures)
                {
                    result.Add(new SentAttachment(filename!, type, contentId, disposition, bytes!));
                }
            }

            return result;
        }

        private List<string> ReadCategories(JsonElement root)
        {
            if (!root.TryGetProperty("categories", out var array))
            {
                return [];
            }

            if (array.ValueKind != JsonValueKind.Array)
            {
                Fail("The categories field must be an array of strings.", "categories");
                return [];
            }

            if (array.GetArrayLength() > MaxCategories)
            {
                Fail($"Too many categories. The maximum is {MaxCategories}.", "categories");
                return [];
            }

            var result = new List<string>();
            var index = 0;
            foreach (var item in array.EnumerateArray())
            {
                var path = $"categories.{index++}";
                if (item.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(item.GetString()))
                {
                    Fail("A category must be a string at least one character in length.", path);
                }
                else if (item.GetString()!.Length > MaxCategoryLength)
                {
                    Fail($"A category cannot have more than {MaxCategoryLength} characters.", path);
                }
                else if (result.Contains(item.GetString()!, StringComparer.Ordinal))
                {
                    Fail("Categories must be unique.", path);
                }
                else
                {
                    result.Add(item.GetString()!);
                }
            }

            return result;
        }

        private Dictionary<string, string> ReadStringMap(JsonElement parent, string name, string path)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            if (!parent.TryGetProperty(name, out var map))
            {
                return result;
            }

            if (map.ValueKind != JsonValueKind.Object)
            {
                Fail($"The {name} field must be an object of string keys and string values.", path);
                return result;
            }

            foreach (var property in map.EnumerateObject())
            {
                if (property.Value.ValueKind != JsonValueKind.String)
                {
                    Fail($"Invalid type. Expected: string, given: {Describe(property.Value.ValueKind)}.", $"{path}.{property.Name}");
                    continue;
                }

                result[property.Name] = property.Value.GetString()!;
            }

            return result;
        }

        private string? OptionalString(JsonElement parent, string name, string path)
        {
            if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                Fail($"Invalid type. Expected: string, given: {Describe(value.ValueKind)}.", path);
                return null;
            }

            return value.GetString();
        }

        private long? OptionalLong(JsonElement parent, string name, string path)
        {
            if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number) || number < 0)
            {
                Fail($"The {name} value must be a Unix timestamp (a whole number of seconds).", path);
                return null;
            }

            return number;
        }

        private static byte[]? DecodeBase64(string content)
        {
            // SendGrid takes standard base64 (padding required, no URL-safe alphabet); line breaks are tolerated.
            var compact = content.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal);
            var buffer = new byte[compact.Length];
            return compact.Length % 4 == 0 && Convert.TryFromBase64String(compact, buffer, out var written) ? buffer[..written] : null;
        }

        private static string Describe(JsonValueKind kind) => kind switch
        {
            JsonValueKind.Number => "integer",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            JsonValueKind.Array => "array",
            JsonValueKind.Object => "object",
            JsonValueKind.Null => "null",
            _ => "string",
        };

        private static Dictionary<string, string> Overlay(Dictionary<string, string> baseline, Dictionary<string, string> overrides)
        {
            var result = new Dictionary<string, string>(baseline, StringComparer.Ordinal);
            foreach (var (key, value) in overrides)
            {
                result[key] = value;
            }

            return result;
        }
    }

    private sealed record Personalization(
        List<EmailAddress> To,
        List<EmailAddress> Cc,
        List<EmailAddress> Bcc,
        EmailAddress? From,
        string? Subject,
        Dictionary<string, string> CustomArgs,
        Dictionary<string, string> Headers,
        long? SendAt);
}
