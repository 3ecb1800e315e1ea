using OpenMavn.Samples.QrBillPayments.Bills;

namespace OpenMavn.Samples.QrBillPayments.Tests;

public sealed class SwissPaymentsCodeTests
{
    private static readonly QrBillCreditor Schneider = new("Robert Schneider AG", "Rue du Lac", "1268", "2501", "Biel", "CH");

    [Fact]
    public void The_worked_example_of_the_guidelines_comes_out_element_by_element()
    {
        var payload = SwissPaymentsCode.Build("CH44 3199 9123 0008 8901 2", Schneider, 194975, "CHF", "210000000003139471430009017", "Auftrag vom 15.06.2020");

        string[] expected =
        [
            "SPC", "0200", "1",
            "CH4431999123000889012",
            "S", "Robert Schneider AG", "Rue du Lac", "1268", "2501", "Biel", "CH",
            "", "", "", "", "", "", "",
            "1949.75", "CHF",
            "", "", "", "", "", "", "",
            "QRR", "210000000003139471430009017",
            "Auftrag vom 15.06.2020",
            "EPD",
        ];
        Assert.Equal(expected, payload.Split('\n'));
        Assert.Equal(31, payload.Split('\n').Length);
        Assert.DoesNotContain('\r', payload);
        Assert.EndsWith("\nEPD", payload, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, "0.01")]
    [InlineData(100, "1.00")]
    [InlineData(4500, "45.00")]
    [InlineData(99_999_999_999, "999999999.99")]
    public void Amounts_have_two_decimals_and_no_separators(long minor, string text) =>
        Assert.Equal(text, SwissPaymentsCode.FormatAmount(minor));

    [Fact]
    public void What_the_standard_does_not_allow_is_refused_or_cleaned()
    {
        Assert.Throws<ArgumentException>(() => SwissPaymentsCode.Build("CH5800791123000889012", Schneider, 100, "CHF", "210000000003139471430009017", null));
        Assert.Throws<ArgumentException>(() => SwissPaymentsCode.Build("CH4431999123000889012", Schneider, 100, "USD", "210000000003139471430009017", null));
        Assert.Throws<ArgumentOutOfRangeException>(() => SwissPaymentsCode.Build("CH4431999123000889012", Schneider, 0, "CHF", "210000000003139471430009017", null));
        Assert.Throws<ArgumentException>(() => SwissPaymentsCode.Build("CH4431999123000889012", Schneider, 100, "CHF", "210000000003139471430009018", null));
        Assert.Throws<ArgumentException>(() => SwissPaymentsCode.Build("CH4431999123000889012", Schneider with { Country = "ch" }, 100, "CHF", "210000000003139471430009017", null));

        // Latin-1 (× é ü) is permitted since version 2.3; a line break, an emoji and Cyrillic are not.
        var payload = SwissPaymentsCode.Build("CH4431999123000889012", Schneider, 100, "EUR", "210000000003139471430009017", "Kaffee-Gutschein × 2\nCafé Zürich 😀 Ж" + new string('x', 200));
        var message = payload.Split('\n')[^2];
        Assert.StartsWith("Kaffee-Gutschein × 2.Café Zürich .. .", message, StringComparison.Ordinal);
        Assert.Equal(140, message.Length);
        Assert.Equal("EUR", payload.Split('\n')[19]);
    }

    [Fact]
    public void The_QR_code_is_an_SVG_with_the_Swiss_cross()
    {
        var payload = SwissPaymentsCode.Build("CH4431999123000889012", Schneider, 194975, "CHF", "210000000003139471430009017", "Auftrag vom 15.06.2020");
        var svg = QrBillImage.Svg(payload);
        var document = System.Xml.Linq.XDocument.Parse(svg);
        Assert.Equal("svg", document.Root!.Name.LocalName);
        Assert.Equal(5, document.Root.Elements().Count(e => e.Name.LocalName == "rect")); // background + the cross's four parts
        Assert.Contains("M", document.Root.Elements().Single(e => e.Name.LocalName == "path").Attribute("d")!.Value, StringComparison.Ordinal);
    }

    [Fact]
    public void The_creditor_is_read_from_the_account_secret()
    {
        var creditor = QrBillCreditor.FromJson("""{"name":"Café Sonne","street":"Bahnhofstrasse","buildingNumber":"1","postalCode":"8001","town":"Zürich","country":"CH"}""");
        Assert.NotNull(creditor);
        Assert.Empty(creditor.Problems());
        Assert.Null(QrBillCreditor.FromJson("not json"));
        Assert.Null(QrBillCreditor.FromJson("""{"name":"x"}"""));
        Assert.NotEmpty(QrBillCreditor.FromJson("""{"name":"","postalCode":"8001","town":"Zürich","country":"CHE"}""")!.Problems());
    }
}
