using OpenMavn.Samples.QrBillPayments.Bills;

namespace OpenMavn.Samples.QrBillPayments.Tests;

public sealed class QrReferenceTests
{
    [Theory]
    // The reference of the guidelines' example QR-bill (Robert Schneider AG): check digit 7, computed and verified.
    [InlineData("21000000000313947143000901", 7)]
    [InlineData("00000820779122585742128669", 4)]
    [InlineData("00000000000000000000000000", 0)]
    [InlineData("00000000000000000000000001", 1)]
    [InlineData("00000000000000000000000002", 6)]
    [InlineData("00000000000000000000000099", 2)]
    public void The_modulo_10_recursive_check_digit_matches_known_references(string first26, int expected)
    {
        Assert.Equal(expected, QrReference.CheckDigit(first26));
        Assert.True(QrReference.IsValid(first26 + expected));
    }

    [Fact]
    public void A_reference_with_a_wrong_check_digit_is_refused()
    {
        // "00 00000 00000 00000 00000 00004" is sometimes quoted as an example; its check digit is 0, not 4.
        Assert.False(QrReference.IsValid("000000000000000000000000004"));
        Assert.True(QrReference.IsValid("000000000000000000000000000"));
        Assert.False(QrReference.IsValid("210000000003139471430009018"));
        Assert.False(QrReference.IsValid("21000000000313947143000901"));
        Assert.False(QrReference.IsValid("2100000000031394714300090a7"));
        Assert.False(QrReference.IsValid(null));
    }

    [Fact]
    public void Spaces_are_removed_before_checking_and_put_back_for_printing()
    {
        Assert.Equal("210000000003139471430009017", QrReference.Normalize("21 00000 00003 13947 14300 09017"));
        Assert.Null(QrReference.Normalize("21 00000 00003 13947 14300 09018"));
        Assert.Equal("21 00000 00003 13947 14300 09017", QrReference.Format("210000000003139471430009017"));
    }

    [Fact]
    public void A_bill_number_and_prefix_make_a_valid_unique_reference()
    {
        Assert.Equal("000000000000000000000000011", QrReference.Create("", 1));
        var prefixed = QrReference.Create("1234", 42);
        Assert.Equal("12340000000000000000000042", prefixed[..26]);
        Assert.True(QrReference.IsValid(prefixed));
        var references = Enumerable.Range(1, 5000).Select(n => QrReference.Create("77", n)).ToList();
        Assert.All(references, r => Assert.True(QrReference.IsValid(r)));
        Assert.All(references, r => Assert.StartsWith("77", r, StringComparison.Ordinal));
        Assert.Equal(references.Count, references.Distinct().Count());
        Assert.Throws<ArgumentOutOfRangeException>(() => QrReference.Create("1234567890", 100_000_000_000_000_000));
        Assert.Throws<ArgumentException>(() => QrReference.Create("12a", 1));
    }
}

public sealed class IbanTests
{
    [Theory]
    [InlineData("CH44 3199 9123 0008 8901 2", true, true)] // the guidelines' QR-IBAN (QR-IID 31999)
    [InlineData("ch4431999123000889012", true, true)]
    [InlineData("LI81 3012 3000 0001 2345 6", true, true)] // a Liechtenstein QR-IBAN (QR-IID 30123), check digits computed
    [InlineData("CH58 0079 1123 0008 8901 2", true, false)] // the guidelines' ordinary IBAN
    [InlineData("CH93 0076 2011 6238 5295 7", true, false)]
    [InlineData("LI21 0881 0000 2324 013A A", true, false)]
    [InlineData("CH44 3199 9123 0008 8901 3", false, false)] // mod-97 fails
    [InlineData("DE89 3704 0044 0532 0130 00", false, false)] // valid IBAN, not CH/LI
    [InlineData("CH44 3199 9123 0008 8901", false, false)]
    [InlineData("", false, false)]
    public void Swiss_IBANs_and_QR_IBANs_are_told_apart(string iban, bool isIban, bool isQrIban)
    {
        Assert.Equal(isIban, Iban.IsSwissIban(iban));
        Assert.Equal(isQrIban, Iban.IsQrIban(iban));
    }
}
