using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Notifications;
using OpenMavn.Notifications.Templates;

namespace OpenMavn.Notifications.Tests;

/// <summary>Every built-in template: present in all four languages, renders every sample, uses only contract keys, encodes.</summary>
public sealed partial class BuiltInTemplateTests
{
    private static readonly string[] RendererKeys = ["recipientName", "language", "platformName", "qrCodes"];
    private readonly NotificationRenderer _renderer = new(Options.Create(new NotificationTemplateOptions()));

    public static TheoryData<string, string> TypesAndLanguages()
    {
        var data = new TheoryData<string, string>();
        foreach (var type in Model.Types)
        {
            foreach (var language in Model.Languages)
            {
                data.Add(type, language);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TypesAndLanguages))]
    public void Exists_in_the_language_and_uses_only_the_keys_core_provides(string type, string language)
    {
        var keys = _renderer.KeysOf(type, language);
        Assert.NotNull(keys);
        var offered = Model.All().Where(s => s.Type == type).SelectMany(s => s.Model.Keys).Concat(RendererKeys).ToHashSet(StringComparer.Ordinal);
        Assert.All(keys, k => Assert.Contains(k, offered));
    }

    [Theory]
    [MemberData(nameof(TypesAndLanguages))]
    public void Renders_every_sample_completely(string type, string language)
    {
        foreach (var (_, model) in Model.All().Where(s => s.Type == type))
        {
            var rendered = _renderer.Render(new NotificationMessage(type, new NotificationRecipient(Guid.NewGuid(), "anna@example.test", "Anna"), language, model, "k"));
            Assert.Equal(language, rendered.Language);
            Assert.False(string.IsNullOrWhiteSpace(rendered.Subject));
            Assert.False(string.IsNullOrWhiteSpace(rendered.PushBody));
            Assert.True(rendered.PushBody.Length <= 240, $"{type}.{language}: push text of {rendered.PushBody.Length} characters");
            Assert.True(rendered.Subject.Length <= 150, $"{type}.{language}: subject of {rendered.Subject.Length} characters");
            foreach (var part in new[] { rendered.Subject, rendered.PushBody, rendered.Text, rendered.Html })
            {
                Assert.DoesNotContain("{{", part, StringComparison.Ordinal);
                Assert.DoesNotContain("}}", part, StringComparison.Ordinal);
            }

            Assert.Contains($"lang=\"{language}\"", rendered.Html, StringComparison.Ordinal);
            Assert.DoesNotMatch(HtmlTag(), rendered.Text);
            Assert.Contains("Anna", rendered.Text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(TypesAndLanguages))]
    public void Encodes_every_user_supplied_value(string type, string language)
    {
        foreach (var (_, model) in Model.All().Where(s => s.Type == type))
        {
            var hostile = model.ToDictionary(kv => kv.Key, kv => kv.Key is "timeZone" || kv.Value.Length == 0 ? kv.Value : "<i>x</i>\"'&", StringComparer.Ordinal);
            var rendered = _renderer.Render(new NotificationMessage(type, new NotificationRecipient(null, "a@example.test", "<b>Eve</b>"), language, hostile, "k"));
            Assert.DoesNotContain("<i>", rendered.Html, StringComparison.Ordinal);
            Assert.DoesNotContain("<b>Eve", rendered.Html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_purchase_email_names_the_code_value_and_last_valid_day_in_german()
    {
        var rendered = _renderer.Render(new NotificationMessage("voucher.purchased", new NotificationRecipient(Guid.NewGuid(), "anna@example.test", "Anna"), "de", Model.Purchased(), "k"));
        foreach (var part in new[] { rendered.Text, rendered.Html })
        {
            Assert.Contains("ABCD-EFGH-JKMN-PQRS-TVW0", part, StringComparison.Ordinal);
            Assert.Contains("CHF 50.00", part, StringComparison.Ordinal);
            Assert.Contains("Dezember 2027", part, StringComparison.Ordinal);
        }

        Assert.Single(rendered.InlineImages);
    }

    [GeneratedRegex("<(p|br|div|table|a|strong|img)[ >/]", RegexOptions.IgnoreCase)]
    private static partial Regex HtmlTag();
}
