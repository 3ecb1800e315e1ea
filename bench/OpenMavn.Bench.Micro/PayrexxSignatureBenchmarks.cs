using BenchmarkDotNet.Attributes;
using OpenMavn.Payments.Payrexx;

namespace OpenMavn.Bench.Micro;

/// <summary>
/// The Payrexx <c>ApiSignature</c> of a gateway request: PHP <c>http_build_query</c> encoding, then HMAC-SHA256 and
/// Base64. The parameters are those PayrexxPaymentProvider sends for a checkout (same names, order and nesting).
/// </summary>
[Config(typeof(ShortConfig))]
[MemoryDiagnoser]
public class PayrexxSignatureBenchmarks
{
    private const string Secret = "Rv8bR8nWQcE2sK0xv1bgpTQGbqK8wZ3N";

    private readonly List<KeyValuePair<string, object?>> _gateway =
    [
        new("amount", 4500L),
        new("currency", "CHF"),
        new("purpose", "Café Sonne – Kaffee-Gutschein × 2"),
        new("referenceId", "0195f3c2-7a41-7c3e-9d1b-5e2f8a9c4b10"),
        new("successRedirectUrl", "https://shop.example.ch/orders/0195f3c2-7a41-7c3e-9d1b-5e2f8a9c4b10?result=success&lang=de"),
        new("failedRedirectUrl", "https://shop.example.ch/orders/0195f3c2-7a41-7c3e-9d1b-5e2f8a9c4b10?result=failed&lang=de"),
        new("cancelRedirectUrl", "https://shop.example.ch/orders/0195f3c2-7a41-7c3e-9d1b-5e2f8a9c4b10?result=cancel&lang=de"),
        new("validity", 15L),
        new("fields", new KeyValuePair<string, object?>[] { new("email", new KeyValuePair<string, object?>[] { new("value", "anna.muster+gutschein@example.ch") }) }),
    ];

    private string _query = "";

    [GlobalSetup]
    public void Setup() => _query = PhpQueryString.Build(_gateway);

    /// <summary>http_build_query of the gateway parameters (RFC 1738, what is signed).</summary>
    [Benchmark]
    public string BuildQuery() => PhpQueryString.Build(_gateway);

    /// <summary>HMAC-SHA256 + Base64 of an already built query.</summary>
    [Benchmark]
    public string Sign() => PhpQueryString.Sign(_query, Secret);

    /// <summary>Both: what each Payrexx call pays before it goes on the wire.</summary>
    [Benchmark]
    public string BuildAndSign() => PhpQueryString.Sign(PhpQueryString.Build(_gateway), Secret);
}
