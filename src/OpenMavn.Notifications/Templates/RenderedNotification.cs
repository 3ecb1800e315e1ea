namespace OpenMavn.Notifications.Templates;

/// <summary>A message rendered for delivery.</summary>
/// <param name="Language">The language of the template used (the recipient's, or the fallback).</param>
/// <param name="Subject">Email subject and push title (one line).</param>
/// <param name="PushBody">Short push text.</param>
/// <param name="Text">Plain-text email body.</param>
/// <param name="Html">Complete HTML email (layout applied, every model value HTML-encoded).</param>
/// <param name="InlineImages">Images the HTML refers to as <c>cid:</c> (the voucher QR codes).</param>
public sealed record RenderedNotification(
    string Language,
    string Subject,
    string PushBody,
    string Text,
    string Html,
    IReadOnlyList<InlineImage> InlineImages);

/// <summary>An image embedded in an email and referred to as <c>cid:{ContentId}</c>.</summary>
/// <param name="ContentId">Content id (without <c>cid:</c>).</param>
/// <param name="FileName">File name.</param>
/// <param name="ContentType">MIME type.</param>
/// <param name="Content">The bytes.</param>
public sealed record InlineImage(string ContentId, string FileName, string ContentType, ReadOnlyMemory<byte> Content);
