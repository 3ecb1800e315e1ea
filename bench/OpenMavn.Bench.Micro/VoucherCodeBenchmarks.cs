using BenchmarkDotNet.Attributes;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Bench.Micro;

/// <summary>Voucher code generation (CSPRNG + Damm check), parsing (normalisation + Damm check) and formatting.</summary>
[Config(typeof(ShortConfig))]
[MemoryDiagnoser]
public class VoucherCodeBenchmarks
{
    private string _canonical = "";
    private string _typed = "";
    private string _typo = "";

    [GlobalSetup]
    public void Setup()
    {
        _canonical = VoucherCode.Generate();

        // What a person types: lower case, spaces instead of dashes.
        _typed = VoucherCode.Format(_canonical).Replace('-', ' ').ToLowerInvariant();

        // One wrong symbol: refused by the check symbol, before any database lookup.
        var chars = _canonical.ToCharArray();
        chars[7] = chars[7] == 'A' ? 'B' : 'A';
        _typo = new string(chars);
    }

    [Benchmark]
    public string Generate() => VoucherCode.Generate();

    [Benchmark]
    public bool ParseCanonical() => VoucherCode.TryParse(_canonical, out _, out _);

    [Benchmark]
    public bool ParseTypedByAPerson() => VoucherCode.TryParse(_typed, out _, out _);

    [Benchmark]
    public bool ParseWithTypo() => VoucherCode.TryParse(_typo, out _, out _);

    [Benchmark]
    public string Format() => VoucherCode.Format(_canonical);
}
