using System.Globalization;
using System.Net;
using System.Text;

namespace OpenMavn.Notifications.Templates;

/// <summary>A template that could not be parsed.</summary>
public sealed class TemplateException(string message) : FormatException(message);

/// <summary>
/// A parsed template. Syntax: <c>{{key}}</c>, <c>{{key:date}}</c>, <c>{{key:datetime}}</c>, <c>{{#key}}…{{/key}}</c>
/// (only when non-empty), <c>{{^key}}…{{/key}}</c> (only when empty) and <c>{{{key}}}</c> for HTML the renderer
/// itself produced (<c>body</c>, <c>qrCodes</c>). Nothing else: no code, no helpers, no partials.
/// </summary>
internal sealed class MessageTemplate
{
    internal static readonly string[] SectionNames = ["subject", "push", "text", "html"];

    private MessageTemplate(IReadOnlyDictionary<string, IReadOnlyList<Node>> sections) => Sections = sections;

    public IReadOnlyDictionary<string, IReadOnlyList<Node>> Sections { get; }

    /// <summary>Every key the template refers to.</summary>
    public IEnumerable<string> Keys => Sections.Values.SelectMany(KeysOf).Distinct(StringComparer.Ordinal);

    /// <summary>Parses a <c>.tmpl</c> file: four sections, each introduced by a line <c>=== name ===</c>.</summary>
    public static MessageTemplate ParseMessage(string source, string name)
    {
        var sections = new Dictionary<string, IReadOnlyList<Node>>(StringComparer.Ordinal);
        string? current = null;
        var buffer = new StringBuilder();
        foreach (var rawLine in source.ReplaceLineEndings("\n").Split('\n'))
        {
            var line = rawLine.TrimEnd();
            if (line.StartsWith("=== ", StringComparison.Ordinal) && line.EndsWith(" ===", StringComparison.Ordinal) && line.Length > 8)
            {
                Close();
                current = line[4..^4].Trim();
                if (!SectionNames.Contains(current, StringComparer.Ordinal) || sections.ContainsKey(current))
                {
                    throw new TemplateException($"{name}: unknown or repeated section '{current}' (expected {string.Join(", ", SectionNames)} once each).");
                }

                continue;
            }

            if (current is null)
            {
                if (line.Length > 0)
                {
                    throw new TemplateException($"{name}: text before the first '=== subject ===' line.");
                }

                continue;
            }

            buffer.Append(rawLine).Append('\n');
        }

        Close();
        var missing = SectionNames.Where(s => !sections.ContainsKey(s)).ToList();
        if (missing.Count > 0)
        {
            throw new TemplateException($"{name}: missing section(s) {string.Join(", ", missing)}.");
        }

        return new MessageTemplate(sections);

        void Close()
        {
            if (current is not null)
            {
                sections[current] = Parse(buffer.ToString().Trim('\n'), $"{name} [{current}]");
            }

            buffer.Clear();
        }
    }

    /// <summary>Parses one piece of template text.</summary>
    public static IReadOnlyList<Node> Parse(string text, string name)
    {
        var position = 0;
        var nodes = ParseUntil(text, ref position, null, name);
        return nodes;
    }

    private static List<Node> ParseUntil(string text, ref int position, string? closing, string name)
    {
        var nodes = new List<Node>();
        while (position < text.Length)
        {
            var open = text.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0)
            {
                nodes.Add(new Literal(text[position..]));
                position = text.Length;
                break;
            }

            if (open > position)
            {
                nodes.Add(new Literal(text[position..open]));
            }

            var raw = text.AsSpan(open).StartsWith("{{{", StringComparison.Ordinal);
            var end = text.IndexOf(raw ? "}}}" : "}}", open, StringComparison.Ordinal);
            if (end < 0)
            {
                throw new TemplateException($"{name}: '{{{{' at {open} is never closed.");
            }

            var tag = text[(open + (raw ? 3 : 2))..end].Trim();
            position = end + (raw ? 3 : 2);
            if (tag.Length == 0)
            {
                throw new TemplateException($"{name}: empty tag at {open}.");
            }

            if (raw)
            {
                nodes.Add(new Value(CheckKey(tag, name), null, Raw: true));
                continue;
            }

            switch (tag[0])
            {
                case '#':
                case '^':
                    var key = CheckKey(tag[1..].Trim(), name);
                    var children = ParseUntil(text, ref position, key, name);
                    nodes.Add(new Section(key, Inverted: tag[0] == '^', children));
                    break;
                case '/':
                    var closed = tag[1..].Trim();
                    if (!string.Equals(closed, closing, StringComparison.Ordinal))
                    {
                        throw new TemplateException($"{name}: '{{{{/{closed}}}}}' at {open} closes nothing open{(closing is null ? "" : $" (open: {closing})")}.");
                    }

                    return nodes;
                default:
                    var colon = tag.IndexOf(':', StringComparison.Ordinal);
                    var format = colon < 0 ? null : tag[(colon + 1)..].Trim();
                    if (format is not null and not ("date" or "datetime"))
                    {
                        throw new TemplateException($"{name}: unknown format '{format}' at {open} (date or datetime).");
                    }

                    nodes.Add(new Value(CheckKey(colon < 0 ? tag : tag[..colon].Trim(), name), format, Raw: false));
                    break;
            }
        }

        if (closing is not null)
        {
            throw new TemplateException($"{name}: section '{closing}' is never closed.");
        }

        return nodes;
    }

    private static string CheckKey(string key, string name)
    {
        if (key.Length == 0 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.'))
        {
            throw new TemplateException($"{name}: '{key}' is not a valid key (letters, digits, '_' and '.').");
        }

        return key;
    }

    private static IEnumerable<string> KeysOf(IReadOnlyList<Node> nodes) => nodes.SelectMany(n => n switch
    {
        Value v => [v.Key],
        Section s => KeysOf(s.Children).Prepend(s.Key),
        _ => [],
    });

    /// <summary>Renders nodes; values are HTML-encoded when <paramref name="html"/>, raw tags only take renderer-made HTML.</summary>
    public static void Render(IReadOnlyList<Node> nodes, RenderContext context, bool html, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case Literal literal:
                    output.Append(literal.Text);
                    break;
                case Value { Raw: true } value:
                    // Raw only for HTML the renderer produced itself; a model value is always encoded.
                    if (context.TrustedHtml(value.Key) is { } trusted)
                    {
                        output.Append(trusted);
                    }
                    else
                    {
                        Append(context.Format(value.Key, null));
                    }

                    break;
                case Value value:
                    Append(context.Format(value.Key, value.Format));
                    break;
                case Section section:
                    var present = !string.IsNullOrEmpty(context.Get(section.Key)) || context.TrustedHtml(section.Key) is { Length: > 0 };
                    if (present != section.Inverted)
                    {
                        Render(section.Children, context, html, output);
                    }

                    break;
            }
        }

        void Append(string value) => output.Append(html ? WebUtility.HtmlEncode(value) : value);
    }

    internal abstract record Node;

    internal sealed record Literal(string Text) : Node;

    internal sealed record Value(string Key, string? Format, bool Raw) : Node;

    internal sealed record Section(string Key, bool Inverted, IReadOnlyList<Node> Children) : Node;
}

/// <summary>The values one rendering sees.</summary>
internal sealed class RenderContext(IReadOnlyDictionary<string, string> values, CultureInfo culture, TimeZoneInfo? timeZone, Func<string, string?> trustedHtml)
{
    public string? Get(string key) => values.TryGetValue(key, out var value) ? value : null;

    public string? TrustedHtml(string key) => trustedHtml(key);

    public string Format(string key, string? format)
    {
        var value = Get(key) ?? "";
        if (format is null || value.Length == 0)
        {
            return value;
        }

        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date.ToString("D", culture);
        }

        if (!DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var instant))
        {
            return value;
        }

        var local = timeZone is null ? instant.ToUniversalTime() : TimeZoneInfo.ConvertTime(instant, timeZone);
        return format == "date"
            ? local.ToString("D", culture)
            : local.ToString("f", culture) + (timeZone is null ? " UTC" : "");
    }
}
