namespace OpenMavn.Payrexx.StandIn.Tests;

public sealed class PhpQueryTests
{
    // The worked example of payrexx-api.md, as decoded (name, value) pairs in the order sent.
    internal static readonly KeyValuePair<string, string>[] WorkedExample =
    [
        new("amount", "5000"),
        new("currency", "CHF"),
        new("purpose", "Gutschein CHF 50.00"),
        new("referenceId", "VOUCHER-000001"),
        new("successRedirectUrl", "https://shop.example.ch/voucher/success?ref=VOUCHER-000001"),
        new("failedRedirectUrl", "https://shop.example.ch/voucher/failed?ref=VOUCHER-000001"),
        new("cancelRedirectUrl", "https://shop.example.ch/voucher/cancel?ref=VOUCHER-000001"),
    ];

    internal const string WorkedExampleSecret = "7f3Kq9LmZx2Vb8NcR4tY6uWp1sHd5JgA";
    internal const string WorkedExampleSignature = "z8rsrc70V+WTWwanPfHRqmNEiepxqDp2Qfog5Pt9SR0=";

    [Fact]
    public void The_worked_example_rebuilds_to_the_documented_query_string_and_signs_to_the_documented_value()
    {
        var query = PhpQuery.Rebuild(WorkedExample);

        Assert.Equal(
            "amount=5000&currency=CHF&purpose=Gutschein+CHF+50.00&referenceId=VOUCHER-000001&successRedirectUrl=https%3A%2F%2Fshop.example.ch%2Fvoucher%2Fsuccess%3Fref%3DVOUCHER-000001&failedRedirectUrl=https%3A%2F%2Fshop.example.ch%2Fvoucher%2Ffailed%3Fref%3DVOUCHER-000001&cancelRedirectUrl=https%3A%2F%2Fshop.example.ch%2Fvoucher%2Fcancel%3Fref%3DVOUCHER-000001",
            query);
        Assert.Equal(WorkedExampleSignature, PayrexxSignature.Compute(WorkedExampleSecret, query));
        Assert.True(PayrexxSignature.Verify(WorkedExampleSecret, query, WorkedExampleSignature));
        Assert.False(PayrexxSignature.Verify(WorkedExampleSecret, query.Replace("5000", "5001", StringComparison.Ordinal), WorkedExampleSignature));
    }

    [Theory]
    [InlineData("~*()!+", "%7E%2A%28%29%21%2B")]
    [InlineData("Grüezi Zürich", "Gr%C3%BCezi+Z%C3%BCrich")]
    [InlineData("AZaz09-_.", "AZaz09-_.")]
    [InlineData("a@b.ch/x?y=1&z", "a%40b.ch%2Fx%3Fy%3D1%26z")]
    [InlineData("", "")]
    public void UrlEncode_is_PHP_urlencode(string value, string expected) =>
        Assert.Equal(expected, PhpQuery.UrlEncode(value));

    [Fact]
    public void Nested_fields_and_lists_are_rebuilt_like_http_build_query()
    {
        var rebuilt = PhpQuery.Rebuild(PhpQuery.ParsePairs("amount=100&fields%5Bemail%5D%5Bvalue%5D=a%40b.ch&pm%5B%5D=twint&pm%5B%5D=visa"));

        Assert.Equal("amount=100&fields%5Bemail%5D%5Bvalue%5D=a%40b.ch&pm%5B0%5D=twint&pm%5B1%5D=visa", rebuilt);
    }

    [Fact]
    public void PHP_groups_a_repeated_or_split_array_at_its_first_position_and_the_last_value_wins()
    {
        Assert.Equal("pm%5B0%5D=a&pm%5B1%5D=b&x=1", PhpQuery.Rebuild(PhpQuery.ParsePairs("pm[0]=a&x=1&pm[1]=b")));
        Assert.Equal("a=3&b=2", PhpQuery.Rebuild(PhpQuery.ParsePairs("a=1&b=2&a=3")));
        Assert.Equal("empty=&plus=1+1", PhpQuery.Rebuild(PhpQuery.ParsePairs("empty=&plus=1%201")));
    }

    [Fact]
    public void Decoding_reads_plus_as_space_and_percent_escapes_as_UTF8()
    {
        var pairs = PhpQuery.ParsePairs("?purpose=Gutschein+f%C3%BCr%20Anna&sig=a%2Bb%3D&flag");

        Assert.Equal(
            [new("purpose", "Gutschein für Anna"), new("sig", "a+b="), new("flag", "")],
            pairs);
    }
}
