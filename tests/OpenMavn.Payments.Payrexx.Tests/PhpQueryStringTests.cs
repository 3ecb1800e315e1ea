using System.Security.Cryptography;
using System.Text;
using OpenMavn.Payments.Payrexx;

namespace OpenMavn.Payments.Payrexx.Tests;

public sealed class PhpQueryStringTests
{
    private const string Secret = "7f3Kq9LmZx2Vb8NcR4tY6uWp1sHd5JgA";

    private static KeyValuePair<string, object?> P(string key, object? value) => new(key, value);

    // Computed here independently of PhpQueryString.Sign.
    private static string Hmac(string data, string secret = Secret) =>
        Convert.ToBase64String(new HMACSHA256(Encoding.UTF8.GetBytes(secret)).ComputeHash(Encoding.UTF8.GetBytes(data)));

    [Fact]
    public void The_worked_example_of_the_contract_signs_to_the_documented_value()
    {
        var query = PhpQueryString.Build(
        [
            P("amount", 5000),
            P("currency", "CHF"),
            P("purpose", "Gutschein CHF 50.00"),
            P("referenceId", "VOUCHER-000001"),
            P("successRedirectUrl", "https://shop.example.ch/voucher/success?ref=VOUCHER-000001"),
            P("failedRedirectUrl", "https://shop.example.ch/voucher/failed?ref=VOUCHER-000001"),
            P("cancelRedirectUrl", "https://shop.example.ch/voucher/cancel?ref=VOUCHER-000001"),
        ]);

        Assert.Equal(
            "amount=5000&currency=CHF&purpose=Gutschein+CHF+50.00&referenceId=VOUCHER-000001&successRedirectUrl=https%3A%2F%2Fshop.example.ch%2Fvoucher%2Fsuccess%3Fref%3DVOUCHER-000001&failedRedirectUrl=https%3A%2F%2Fshop.example.ch%2Fvoucher%2Ffailed%3Fref%3DVOUCHER-000001&cancelRedirectUrl=https%3A%2F%2Fshop.example.ch%2Fvoucher%2Fcancel%3Fref%3DVOUCHER-000001",
            query);
        Assert.Equal("z8rsrc70V+WTWwanPfHRqmNEiepxqDp2Qfog5Pt9SR0=", PhpQueryString.Sign(query, Secret));
    }

    public static TheoryData<string, KeyValuePair<string, object?>[]> Vectors => new()
    {
        { "fields%5Bemail%5D%5Bvalue%5D=anna%40example.ch", [P("fields", new[] { P("email", new[] { P("value", "anna@example.ch") }) })] },
        { "pm%5B0%5D=twint&pm%5B1%5D=visa", [P("pm", new[] { "twint", "visa" })] },
        { "a=1&b=0", [P("a", true), P("b", false)] },
        { "purpose=Gr%C3%BC%C3%9Fe+%C3%A9+%E2%82%AC", [P("purpose", "Grüße é €")] },
        { "s=%7E+%2A+%28+%29+%21+%2B+%26+%3D+%27", [P("s", "~ * ( ) ! + & = '")] },
        { "safe=AZaz09-_.", [P("safe", "AZaz09-_.")] },
        { "empty=&next=x", [P("empty", ""), P("next", "x")] },
        { "kept=1", [P("gone", null), P("kept", 1), P("nothing", Array.Empty<string>())] },
        { "z=1&a=2", [P("z", 1), P("a", 2)] },
        { "amount=-12&big=9223372036854775807", [P("amount", -12), P("big", long.MaxValue)] },
        { "fields%5Bemail%5D%5Bvalue%5D=a%2Bb%40x.ch&fields%5Bforename%5D%5Bvalue%5D=J%C3%A9r%C3%B4me&pm%5B0%5D=twint",
            [P("fields", new[] { P("email", new[] { P("value", "a+b@x.ch") }), P("forename", new[] { P("value", "Jérôme") }) }), P("pm", new List<string> { "twint" })] },
        { "m%5B0%5D%5Bk%5D=v&m%5B1%5D=1", [P("m", new object[] { new[] { P("k", "v") }, true })] },
        { "%C3%BC+key=x", [P("ü key", "x")] },
        { "", [] },
        { "", [P("only", null)] },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Builds_exactly_what_PHP_http_build_query_builds_and_signs_it(string expected, KeyValuePair<string, object?>[] parameters)
    {
        var query = PhpQueryString.Build(parameters);

        Assert.Equal(expected, query);
        Assert.Equal(Hmac(expected), PhpQueryString.Sign(query, Secret));
    }

    [Fact]
    public void No_parameters_signs_the_empty_string()
    {
        Assert.Equal(Hmac(""), PhpQueryString.Sign(PhpQueryString.Build([]), Secret));
        Assert.Equal("+eZuF5tnR65UEI+C+K3os8Jddv0wr95sOVgixTAZYWk=", Hmac("", "secret"));
        Assert.Equal(Hmac("", "secret"), PhpQueryString.Sign("", "secret"));
    }

    [Fact]
    public void The_secret_is_keyed_as_UTF8()
    {
        Assert.Equal(Hmac("a=1", "sécret€"), PhpQueryString.Sign("a=1", "sécret€"));
        Assert.NotEqual(PhpQueryString.Sign("a=1", "secret"), PhpQueryString.Sign("a=1", "Secret"));
    }

    [Fact]
    public void RFC3986_keeps_tilde_and_writes_space_as_percent_20()
    {
        Assert.Equal("s=~%20%2A%20%28%20%29%20%21%20%2B%20%26%20%3D%20%27", PhpQueryString.Build([P("s", "~ * ( ) ! + & = '")], PhpQueryEncoding.Rfc3986));
        Assert.Equal("fields%5Bemail%5D%5Bvalue%5D=%C3%BC", PhpQueryString.Build([P("fields", new[] { P("email", new[] { P("value", "ü") }) })], PhpQueryEncoding.Rfc3986));
        Assert.Equal("abc%2B%2F%3D", PhpQueryString.Encode("abc+/=", PhpQueryEncoding.Rfc3986));
    }

    [Fact]
    public void Floating_point_is_refused()
    {
        Assert.Throws<ArgumentException>(() => PhpQueryString.Build([P("amount", 50.0)]));
    }
}
