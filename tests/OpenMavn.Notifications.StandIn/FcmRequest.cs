using System.Text.Json;
using System.Text.RegularExpressions;

namespace OpenMavn.Notifications.StandIn;

/// <summary>
/// Reads an FCM HTTP v1 <c>messages:send</c> body as the proto-JSON front end does: unknown field names are
/// refused, both <c>snake_case</c> and <c>lowerCamelCase</c> names are taken, <c>data</c> is a string map without
/// FCM's reserved keys, and the message has exactly one target (<c>token</c>, <c>topic</c> or <c>condition</c>).
/// </summary>
internal static partial class FcmRequest
{
    private static readonly HashSet<string> RequestFields = ["message", "validate_only", "validateOnly"];

    private static readonly HashSet<string> MessageFields =
        ["name", "data", "notification", "android", "webpush", "apns", "fcm_options", "fcmOptions", "token", "topic", "condition"];

    private static readonly HashSet<string> NotificationFields = ["title", "body", "image"];

    private static readonly HashSet<string> ReservedDataKeys = ["from", "notification", "message_type"];

    /// <summary>What a valid request asks for.</summary>
    public sealed record Message(
        bool ValidateOnly,
        string? Token,
        string? Topic,
        string? Condition,
        string? Title,
        string? Body,
        string? Image,
        Dictionary<string, string> Data,
        string? AndroidCollapseKey,
        string? ApnsCollapseId,
        string RawJson);

    /// <summary>Why a request is refused: a 400 INVALID_ARGUMENT with the offending field.</summary>
    public sealed record Violation(string Message, string Field);

    public static (Message? Message, Violation? Violation) Read(string body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException exception)
        {
            return (null, new Violation($"Invalid JSON payload received. {exception.Message}", ""));
        }

        using (document)
        {
            try
            {
                return (ReadRequest(document.RootElement), null);
            }
            catch (RefusedException refused)
            {
                return (null, refused.Violation);
            }
        }
    }

    private static Message ReadRequest(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Refuse("Invalid JSON payload received. Expected an object.", "");
        }

        RejectUnknown(root, RequestFields, "");
        var validateOnly = false;
        foreach (var name in new[] { "validate_only", "validateOnly" })
        {
            if (root.TryGetProperty(name, out var flag))
            {
                validateOnly = flag.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw Refuse($"Invalid value at '{name}' (TYPE_BOOL), {flag.GetRawText()}", name),
                };
            }
        }

        if (!root.TryGetProperty("message", out var message) || message.ValueKind == JsonValueKind.Null)
        {
            throw Refuse("Recipient of the message is not set.", "message");
        }

        if (message.ValueKind != JsonValueKind.Object)
        {
            throw Refuse($"Invalid value at 'message' (type.googleapis.com/google.firebase.fcm.v1.Message), {message.GetRawText()}", "message");
        }

        RejectUnknown(message, MessageFields, "message");
        var targets = new[] { "token", "topic", "condition" }.Where(t => message.TryGetProperty(t, out _)).ToList();
        if (targets.Count == 0)
        {
            throw Refuse("Recipient of the message is not set.", "message");
        }

        if (targets.Count > 1)
        {
            throw Refuse($"Invalid value at 'message' (oneof), oneof field 'target' is already set. Cannot set '{targets[1]}'", $"message.{targets[1]}");
        }

        var token = OptionalString(message, "token", "message.token");
        var topic = OptionalString(message, "topic", "message.topic");
        var condition = OptionalString(message, "condition", "message.condition");
        if (token is "")
        {
            throw Refuse("The registration token is not a valid FCM registration token", "message.token");
        }

        if (topic is not null && !TopicPattern().IsMatch(topic))
        {
            throw Refuse("Invalid topic name.", "message.topic");
        }

        if (condition is "")
        {
            throw Refuse("Invalid condition expression.", "message.condition");
        }

        string? title = null, text = null, image = null;
        if (Optional(message, "notification", "message.notification", JsonValueKind.Object, "type.googleapis.com/google.firebase.fcm.v1.Notification") is { } notification)
        {
            RejectUnknown(notification, NotificationFields, "message.notification");
            title = OptionalString(notification, "title", "message.notification.title");
            text = OptionalString(notification, "body", "message.notification.body");
            image = OptionalString(notification, "image", "message.notification.image");
        }

        var data = ReadData(message);

        string? collapseKey = null;
        if (Optional(message, "android", "message.android", JsonValueKind.Object, "type.googleapis.com/google.firebase.fcm.v1.AndroidConfig") is { } android)
        {
            collapseKey = OptionalString(android, "collapse_key", "message.android.collapse_key")
                ?? OptionalString(android, "collapseKey", "message.android.collapse_key");
            if (OptionalString(android, "ttl", "message.android.ttl") is { } ttl && !DurationPattern().IsMatch(ttl))
            {
                throw Refuse($"Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration), \"{ttl}\"", "message.android.ttl");
            }

            if (OptionalString(android, "priority", "message.android.priority") is { } priority && priority is not ("NORMAL" or "HIGH" or "normal" or "high"))
            {
                throw Refuse($"Invalid value at 'message.android.priority' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), \"{priority}\"", "message.android.priority");
            }
        }

        string? collapseId = null;
        if (Optional(message, "apns", "message.apns", JsonValueKind.Object, "type.googleapis.com/google.firebase.fcm.v1.ApnsConfig") is { } apns
            && Optional(apns, "headers", "message.apns.headers", JsonValueKind.Object, "map<string, string>") is { } headers)
        {
            foreach (var header in headers.EnumerateObject())
            {
                if (header.Value.ValueKind != JsonValueKind.String)
                {
                    throw Refuse($"Invalid value at 'message.apns.headers[{header.Name}]' (TYPE_STRING), {header.Value.GetRawText()}", $"message.apns.headers[{header.Name}]");
                }

                if (header.Name.Equals("apns-collapse-id", StringComparison.OrdinalIgnoreCase))
                {
                    collapseId = header.Value.GetString();
                }
            }
        }

        Optional(message, "webpush", "message.webpush", JsonValueKind.Object, "type.googleapis.com/google.firebase.fcm.v1.WebpushConfig");
        Optional(message, "fcm_options", "message.fcm_options", JsonValueKind.Object, "type.googleapis.com/google.firebase.fcm.v1.FcmOptions");
        Optional(message, "fcmOptions", "message.fcm_options", JsonValueKind.Object, "type.googleapis.com/google.firebase.fcm.v1.FcmOptions");

        return new Message(validateOnly, token, topic, condition, title, text, image, data, collapseKey, collapseId, message.GetRawText());
    }

    private static Dictionary<string, string> ReadData(JsonElement message)
    {
        var data = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Optional(message, "data", "message.data", JsonValueKind.Object, "map<string, string>") is not { } map)
        {
            return data;
        }

        var index = 0;
        foreach (var entry in map.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                // FCM's own wording: the index of the map entry, then the offending value as sent.
                throw Refuse($"Invalid value at 'message.data[{index}].value' (TYPE_STRING), {entry.Value.GetRawText()}", $"message.data[{index}].value");
            }

            if (ReservedDataKeys.Contains(entry.Name)
                || entry.Name.StartsWith("google.", StringComparison.Ordinal)
                || entry.Name.StartsWith("gcm.", StringComparison.Ordinal))
            {
                throw Refuse($"Invalid data payload key: {entry.Name}", $"message.data[{index}].key");
            }

            data[entry.Name] = entry.Value.GetString()!;
            index++;
        }

        return data;
    }

    private static void RejectUnknown(JsonElement json, HashSet<string> known, string path)
    {
        foreach (var property in json.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                var at = path.Length == 0 ? "" : $" at '{path}'";
                throw Refuse($"Invalid JSON payload received. Unknown name \"{property.Name}\"{at}: Cannot find field.", path.Length == 0 ? property.Name : $"{path}.{property.Name}");
            }
        }
    }

    private static JsonElement? Optional(JsonElement parent, string name, string path, JsonValueKind kind, string typeName)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == kind ? value : throw Refuse($"Invalid value at '{path}' ({typeName}), {value.GetRawText()}", path);
    }

    private static string? OptionalString(JsonElement parent, string name, string path) =>
        Optional(parent, name, path, JsonValueKind.String, "TYPE_STRING")?.GetString();

    private static RefusedException Refuse(string message, string field) => new(new Violation(message, field));

    [GeneratedRegex(@"^(/topics/)?[a-zA-Z0-9\-_.~%]+$", RegexOptions.CultureInvariant)]
    private static partial Regex TopicPattern();

    /// <summary>A protobuf Duration in JSON: seconds with up to nine fractional digits and an <c>s</c>.</summary>
    [GeneratedRegex(@"^\d+(\.\d{1,9})?s$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();

    private sealed class RefusedException(Violation violation) : Exception(violation.Message)
    {
        public Violation Violation { get; } = violation;
    }
}
