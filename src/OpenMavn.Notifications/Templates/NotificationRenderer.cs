using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using OpenMavn.Core.Notifications;
using QRCoder;

namespace OpenMavn.Notifications.Templates;

/// <summary>
/// Renders a <see cref="NotificationMessage"/> with its <c>{type}.{language}.tmpl</c> template (host folder, host
/// assemblies, built-in; recipient's language, then the fallback language) into subject, push text, plain text
/// and a complete HTML email. Every model value is HTML-encoded in HTML. Thread-safe; templates are parsed once.
/// </summary>
public sealed class NotificationRenderer
{
    private const string LayoutName = "_layout.html";
    private static readonly Assembly BuiltIn = typeof(NotificationRenderer).Assembly;

    private readonly NotificationTemplateOptions _options;
    private readonly ConcurrentDictionary<string, MessageTemplate?> _messages = new(StringComparer.Ordinal);
    private readonly Lazy<IReadOnlyList<MessageTemplate.Node>> _layout;

    /// <summary>Creates the renderer.</summary>
    public NotificationRenderer(IOptions<NotificationTemplateOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _layout = new(() => MessageTemplate.Parse(Load(LayoutName) ?? throw new TemplateException($"No {LayoutName} found."), LayoutName));
    }

    /// <summary>
    /// Renders <paramref name="message"/>. Throws <see cref="ProviderException"/> (not transient) when no template
    /// exists for its type, and <see cref="TemplateException"/> when a template is malformed.
    /// </summary>
    public RenderedNotification Render(NotificationMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var (template, language) = Find(message.Type, message.Language)
            ?? throw new ProviderException("notifications", $"No template for '{message.Type}' in '{message.Language}' or '{_options.FallbackLanguage}'.", transient: false);

        var values = new Dictionary<string, string>(message.Model, StringComparer.Ordinal)
        {
            ["recipientName"] = message.Recipient.Name is { Length: > 0 } name ? name : message.Recipient.Email ?? "",
            ["language"] = language,
            ["platformName"] = _options.PlatformName,
        };
        var culture = CultureFor(language);
        var timeZone = values.TryGetValue("timeZone", out var zoneId) && TimeZoneInfo.TryFindSystemTimeZoneById(zoneId, out var zone) ? zone : null;

        var images = new List<InlineImage>();
        string? qrHtml = null;
        var context = new RenderContext(values, culture, timeZone, key => key == "qrCodes" ? qrHtml ??= QrCodes(values, images) : null);

        var subject = OneLine(RenderSection(template, "subject", context, html: false));
        var push = OneLine(RenderSection(template, "push", context, html: false));
        var text = RenderSection(template, "text", context, html: false).Trim() + "\n";
        var body = RenderSection(template, "html", context, html: true).Trim();

        var layoutContext = new RenderContext(
            new Dictionary<string, string>(values, StringComparer.Ordinal) { ["subject"] = subject },
            culture,
            timeZone,
            key => key == "body" ? body : null);
        var page = new StringBuilder();
        MessageTemplate.Render(_layout.Value, layoutContext, html: true, page);
        return new RenderedNotification(language, subject, push, text, page.ToString(), images);
    }

    /// <summary>The template keys a type's template uses in a language (for tests and tooling).</summary>
    public IReadOnlyCollection<string>? KeysOf(string type, string language) =>
        Find(type, language) is { } found && found.Language == language ? found.Template.Keys.ToList() : null;

    /// <summary>The culture used to format dates for a language (Swiss variants for de, fr, it and en).</summary>
    public static CultureInfo CultureFor(string language)
    {
        foreach (var name in new[] { $"{language}-CH", language })
        {
            try
            {
                return CultureInfo.GetCultureInfo(name, predefinedOnly: true);
            }
            catch (CultureNotFoundException)
            {
            }
        }

        return CultureInfo.InvariantCulture;
    }

    private (MessageTemplate Template, string Language)? Find(string type, string language)
    {
        if (!IsSafeName(type))
        {
            throw new ProviderException("notifications", $"'{type}' is not a valid notification type.", transient: false);
        }

        foreach (var candidate in new[] { language, _options.FallbackLanguage }.Distinct(StringComparer.Ordinal))
        {
            if (!IsSafeName(candidate))
            {
                continue;
            }

            var fileName = $"{type}.{candidate}.tmpl";
            var template = _messages.GetOrAdd(fileName, f => Load(f) is { } source ? MessageTemplate.ParseMessage(source, f) : null);
            if (template is not null)
            {
                return (template, candidate);
            }
        }

        return null;
    }

    private string? Load(string fileName)
    {
        if (_options.Directory is { Length: > 0 } directory)
        {
            var path = Path.Combine(directory, fileName);
            if (File.Exists(path))
            {
                return File.ReadAllText(path, Encoding.UTF8);
            }
        }

        foreach (var assembly in _options.Assemblies.Append(BuiltIn))
        {
            var resource = assembly.GetManifestResourceNames().FirstOrDefault(n => n.EndsWith("." + fileName, StringComparison.Ordinal) || n == fileName);
            if (resource is null)
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd();
        }

        return null;
    }

    private static string RenderSection(MessageTemplate template, string section, RenderContext context, bool html)
    {
        var output = new StringBuilder();
        MessageTemplate.Render(template.Sections[section], context, html, output);
        return output.ToString();
    }

    private static string QrCodes(IReadOnlyDictionary<string, string> values, List<InlineImage> images)
    {
        if (!values.TryGetValue("codes", out var codes) || string.IsNullOrWhiteSpace(codes))
        {
            return "";
        }

        var html = new StringBuilder();
        using var generator = new QRCodeGenerator();
        foreach (var code in codes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            using var data = generator.CreateQrCode(code, QRCodeGenerator.ECCLevel.Q);
            using var png = new PngByteQRCode(data);
            var contentId = $"voucher-qr-{images.Count + 1}";
            images.Add(new InlineImage(contentId, $"{contentId}.png", "image/png", png.GetGraphic(6)));
            var encoded = WebUtility.HtmlEncode(code);
            html.Append(CultureInfo.InvariantCulture, $"<p style=\"margin:16px 0;text-align:center\"><img src=\"cid:{contentId}\" alt=\"{encoded}\" width=\"200\" height=\"200\" style=\"display:block;margin:0 auto\"><br><code style=\"font-size:18px;letter-spacing:2px\">{encoded}</code></p>");
        }

        return html.ToString();
    }

    private static string OneLine(string value) =>
        string.Join(' ', value.Split((char[])['\r', '\n', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));

    private static bool IsSafeName(string value) =>
        value.Length is > 0 and <= 64 && value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-') && !value.Contains("..", StringComparison.Ordinal);
}
