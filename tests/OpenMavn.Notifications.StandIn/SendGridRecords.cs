namespace OpenMavn.Notifications.StandIn;

/// <summary>
/// One e-mail SendGrid accepted for delivery. A Mail Send request yields one per personalization, since each
/// personalization is a separate e-mail; top-level values apply where the personalization does not override them.
/// </summary>
/// <param name="MessageId">The <c>X-Message-Id</c> answered for the request (shared by its personalizations).</param>
/// <param name="To">The <c>to</c> recipients.</param>
/// <param name="Cc">The <c>cc</c> recipients.</param>
/// <param name="Bcc">The <c>bcc</c> recipients.</param>
/// <param name="From">The sender (the personalization's <c>from</c>, else the top-level one).</param>
/// <param name="ReplyTo">The top-level <c>reply_to</c>, if any.</param>
/// <param name="Subject">The personalization's subject, else the top-level one (null only with a template).</param>
/// <param name="Text">The <c>text/plain</c> content, if any.</param>
/// <param name="Html">The <c>text/html</c> content, if any.</param>
/// <param name="Attachments">The attachments, decoded.</param>
/// <param name="CustomArgs">Top-level <c>custom_args</c> overlaid with the personalization's.</param>
/// <param name="Categories">The <c>categories</c>.</param>
/// <param name="Headers">Top-level <c>headers</c> overlaid with the personalization's.</param>
/// <param name="TemplateId">The <c>template_id</c>, if any.</param>
/// <param name="SendAt">The personalization's <c>send_at</c>, else the top-level one (Unix seconds), if any.</param>
/// <param name="RawJson">The whole request body.</param>
public sealed record SentMail(
    string MessageId,
    IReadOnlyList<EmailAddress> To,
    IReadOnlyList<EmailAddress> Cc,
    IReadOnlyList<EmailAddress> Bcc,
    EmailAddress From,
    EmailAddress? ReplyTo,
    string? Subject,
    string? Text,
    string? Html,
    IReadOnlyList<SentAttachment> Attachments,
    IReadOnlyDictionary<string, string> CustomArgs,
    IReadOnlyList<string> Categories,
    IReadOnlyDictionary<string, string> Headers,
    string? TemplateId,
    long? SendAt,
    string RawJson);

/// <summary>An e-mail address as SendGrid takes it: <c>{"email": …, "name": …}</c>.</summary>
/// <param name="Email">The address.</param>
/// <param name="Name">The display name, if sent.</param>
public sealed record EmailAddress(string Email, string? Name);

/// <summary>An attachment of a <see cref="SentMail"/>.</summary>
/// <param name="Filename">The <c>filename</c>.</param>
/// <param name="Type">The MIME <c>type</c>, if sent.</param>
/// <param name="ContentId">The <c>content_id</c>, if sent (required for inline attachments).</param>
/// <param name="Disposition">The <c>disposition</c>: <c>attachment</c> (the default) or <c>inline</c>.</param>
/// <param name="Bytes">The decoded <c>content</c>.</param>
public sealed record SentAttachment(string Filename, string? Type, string? ContentId, string Disposition, ReadOnlyMemory<byte> Bytes);
