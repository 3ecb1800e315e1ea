using System.Globalization;
using Microsoft.Extensions.Options;
using OpenMavn.Core;
using OpenMavn.Core.Notifications;
using OpenMavn.Notifications.Templates;

namespace OpenMavn.Notifications.Tests;

public sealed class RendererTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("openmavn-templates-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private NotificationRenderer Renderer(Action<NotificationTemplateOptions>? configure = null)
    {
        var options = new NotificationTemplateOptions { Directory = _folder };
        configure?.Invoke(options);
        return new NotificationRenderer(Options.Create(options));
    }

    private void Write(string name, string content) => File.WriteAllText(Path.Combine(_folder, name), content);

    private static NotificationMessage Message(string type, string language, Dictionary<string, string> model, string? name = "Anna") =>
        new(type, new NotificationRecipient(Guid.NewGuid(), "anna@example.test", name), language, model, "key-1");

    private const string Simple = """
        === subject ===
        Hi {{recipientName}}
        about {{thing}}
        === push ===
        Push {{thing}}
        === text ===
        Text {{thing}}{{#extra}} plus {{extra}}{{/extra}}{{^extra}} no extra{{/extra}}
        === html ===
        <p title="{{thing}}">Html {{thing}}</p>
        """;

    [Fact]
    public void Html_encodes_every_model_value_including_attributes_and_leaves_text_raw()
    {
        Write("test.simple.en.tmpl", Simple);
        var hostile = "<script>alert('x')</script>\" onload=\"x&";
        var rendered = Renderer().Render(Message("test.simple", "en", new() { ["thing"] = hostile }, name: "<b>Anna</b>"));

        Assert.DoesNotContain("<script>", rendered.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>Anna", rendered.Html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot; onload=&quot;x&amp;", rendered.Html, StringComparison.Ordinal);
        Assert.Contains("Text " + hostile + " no extra", rendered.Text, StringComparison.Ordinal);
        Assert.Equal("Hi <b>Anna</b> about " + hostile, rendered.Subject);
    }

    [Fact]
    public void Raw_tags_never_pass_a_model_value_through_unencoded()
    {
        Write("test.raw.en.tmpl", "=== subject ===\ns\n=== push ===\np\n=== text ===\nt\n=== html ===\n<div>{{{thing}}}</div>");
        var rendered = Renderer().Render(Message("test.raw", "en", new() { ["thing"] = "<img src=x onerror=alert(1)>" }));
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", rendered.Html, StringComparison.Ordinal);
    }

    [Fact]
    public void Sections_render_on_presence_and_absence()
    {
        Write("test.simple.en.tmpl", Simple);
        var with = Renderer().Render(Message("test.simple", "en", new() { ["thing"] = "a", ["extra"] = "b" }));
        Assert.Equal("Text a plus b\n", with.Text);
    }

    [Fact]
    public void Subject_and_push_are_one_line_even_when_a_value_has_line_breaks()
    {
        Write("test.simple.en.tmpl", Simple);
        var rendered = Renderer().Render(Message("test.simple", "en", new() { ["thing"] = "a\r\nBcc: evil@example.test" }));
        Assert.DoesNotContain('\n', rendered.Subject);
        Assert.DoesNotContain('\r', rendered.Subject);
        Assert.DoesNotContain('\n', rendered.PushBody);
    }

    [Fact]
    public void Falls_back_to_the_fallback_language_and_says_which_one_was_used()
    {
        Write("test.simple.en.tmpl", Simple);
        var rendered = Renderer().Render(Message("test.simple", "rm", new() { ["thing"] = "x" }));
        Assert.Equal("en", rendered.Language);
    }

    [Fact]
    public void The_recipients_language_wins_over_a_host_override_in_the_fallback_language()
    {
        // Host overrides English only; a German recipient still gets the built-in German template.
        Write("voucher.redeemed.en.tmpl", "=== subject ===\nHOST\n=== push ===\np\n=== text ===\nt\n=== html ===\nh");
        var renderer = Renderer();
        Assert.Equal("HOST", renderer.Render(Message("voucher.redeemed", "en", Model.Redeemed())).Subject);
        var german = renderer.Render(Message("voucher.redeemed", "de", Model.Redeemed()));
        Assert.Equal("de", german.Language);
        Assert.NotEqual("HOST", german.Subject);
    }

    [Fact]
    public void A_host_assembly_overrides_the_built_in_template()
    {
        var renderer = Renderer(o => o.Assemblies.Add(typeof(RendererTests).Assembly));
        var rendered = renderer.Render(Message("merchant.sale", "fr", Model.Sale()));
        Assert.Equal("[Host] Vente Brunch", rendered.Subject);
        Assert.Contains("Host html 2", rendered.Html, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_type_fails_for_good_with_a_clear_message()
    {
        var ex = Assert.Throws<ProviderException>(() => Renderer().Render(Message("no.such.type", "en", [])));
        Assert.False(ex.IsTransient);
        Assert.Contains("no.such.type", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("A/B")]
    public void A_type_cannot_name_a_file_outside_the_template_folders(string type)
    {
        var ex = Assert.Throws<ProviderException>(() => Renderer().Render(Message(type, "en", [])));
        Assert.False(ex.IsTransient);
    }

    [Fact]
    public void A_hostile_language_is_ignored_and_the_fallback_used()
    {
        Write("test.simple.en.tmpl", Simple);
        var rendered = Renderer().Render(Message("test.simple", "../x", new() { ["thing"] = "x" }));
        Assert.Equal("en", rendered.Language);
    }

    [Theory]
    [InlineData("=== subject ===\ns\n=== push ===\np\n=== text ===\n{{#a}}never closed\n=== html ===\nh", "never closed")]
    [InlineData("=== subject ===\ns\n=== push ===\np\n=== text ===\n{{/a}}\n=== html ===\nh", "closes nothing")]
    [InlineData("=== subject ===\ns\n=== push ===\np\n=== text ===\n{{a:money}}\n=== html ===\nh", "unknown format")]
    [InlineData("=== subject ===\ns\n=== push ===\np\n=== text ===\nt", "missing section")]
    [InlineData("=== subject ===\ns\n=== subject ===\ns\n=== push ===\np\n=== text ===\nt\n=== html ===\nh", "repeated")]
    [InlineData("=== subject ===\ns\n=== push ===\np\n=== text ===\n{{ }}\n=== html ===\nh", "empty tag")]
    [InlineData("=== subject ===\ns\n=== push ===\np\n=== text ===\n{{a b}}\n=== html ===\nh", "not a valid key")]
    public void Malformed_templates_are_refused_with_the_reason(string source, string reason)
    {
        Write("test.bad.en.tmpl", source);
        var ex = Assert.Throws<TemplateException>(() => Renderer().Render(Message("test.bad", "en", [])));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.Contains("test.bad.en.tmpl", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dates_are_formatted_in_the_recipients_language_and_instants_in_the_merchants_time_zone()
    {
        Write("test.dates.de.tmpl", "=== subject ===\n{{day:date}}\n=== push ===\n{{at:datetime}}\n=== text ===\n{{at:date}}\n=== html ===\nh");
        var rendered = Renderer().Render(Message("test.dates", "de", new()
        {
            ["day"] = "2026-12-24",
            // 23:30 UTC on 31 March is already 1 April in Zurich (UTC+2, summer time).
            ["at"] = "2026-03-31T23:30:00.0000000+00:00",
            ["timeZone"] = "Europe/Zurich",
        }));
        var culture = NotificationRenderer.CultureFor("de");
        Assert.Equal(new DateTime(2026, 12, 24).ToString("D", culture), rendered.Subject);
        Assert.Equal(new DateTime(2026, 4, 1, 1, 30, 0).ToString("f", culture), rendered.PushBody);
        Assert.Equal(new DateTime(2026, 4, 1).ToString("D", culture) + "\n", rendered.Text);
        Assert.Contains("2026", rendered.Subject, StringComparison.Ordinal);
        Assert.Contains("Dezember", rendered.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_time_zone_instants_are_shown_in_utc_and_say_so()
    {
        Write("test.dates.en.tmpl", "=== subject ===\n{{at:datetime}}\n=== push ===\np\n=== text ===\nt\n=== html ===\nh");
        var rendered = Renderer().Render(Message("test.dates", "en", new() { ["at"] = "2026-03-31T23:30:00+00:00" }));
        Assert.EndsWith(" UTC", rendered.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public void Voucher_purchase_email_carries_one_inline_qr_image_per_code()
    {
        var rendered = Renderer().Render(Message("voucher.purchased", "en", Model.Purchased("ABCD-EFGH-JKMN-PQRS-TVW0, ZZZZ-YYYY-XXXX-WWWW-VVV1")));
        Assert.Equal(2, rendered.InlineImages.Count);
        foreach (var image in rendered.InlineImages)
        {
            Assert.Contains($"cid:{image.ContentId}", rendered.Html, StringComparison.Ordinal);
            Assert.Equal("image/png", image.ContentType);
            Assert.True(image.Content.Span[..8].SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }));
        }

        Assert.Contains("ABCD-EFGH-JKMN-PQRS-TVW0", rendered.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Swiss_cultures_are_used_for_the_four_languages()
    {
        Assert.Equal("de-CH", NotificationRenderer.CultureFor("de").Name);
        Assert.Equal("fr-CH", NotificationRenderer.CultureFor("fr").Name);
        Assert.Equal("it-CH", NotificationRenderer.CultureFor("it").Name);
        Assert.Equal(CultureInfo.InvariantCulture, NotificationRenderer.CultureFor("xx"));
    }
}
