using System.Globalization;
using OpenMavn.Core.Accounts;

namespace OpenMavn.Core.Tests;

public sealed class MoneyTests
{
    [Theory]
    [InlineData("CHF", "CHF")]
    [InlineData("chf", "CHF")]
    [InlineData(" eur ", "EUR")]
    [InlineData("jPy", "JPY")]
    public void Money_Of_normalizes_a_known_currency_code(string input, string expected)
    {
        var money = Money.Of(1234, input);

        Assert.Equal(expected, money.Currency);
        Assert.Equal(1234, money.Amount);
    }

    [Theory]
    [InlineData("XYZ")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("CH")]
    [InlineData("CHFF")]
    [InlineData("C H")]
    [InlineData("€")]
    public void Money_Of_refuses_an_unknown_currency(string? currency)
    {
        var error = Assert.Throws<ArgumentException>(() => Money.Of(100, currency!));

        Assert.Equal("currency", error.ParamName);
    }

    [Fact]
    public void Zero_is_a_normalized_zero_amount_and_refuses_unknown_currencies()
    {
        Assert.Equal(new Money(0, "JPY"), Money.Zero("jpy"));
        Assert.Throws<ArgumentException>(() => Money.Zero("ABC"));
    }

    [Fact]
    public void Adding_and_subtracting_the_same_currency_works_on_minor_units()
    {
        var a = Money.Of(5000, "CHF");
        var b = Money.Of(1250, "chf");

        Assert.Equal(new Money(6250, "CHF"), a + b);
        Assert.Equal(new Money(3750, "CHF"), a - b);
        Assert.Equal(new Money(-3750, "CHF"), b - a);
        Assert.Equal(new Money(15000, "CHF"), a.Times(3));
    }

    [Fact]
    public void Adding_or_subtracting_different_currencies_is_refused()
    {
        var chf = Money.Of(5000, "CHF");
        var eur = Money.Of(5000, "EUR");

        Assert.Throws<InvalidOperationException>(() => chf + eur);
        Assert.Throws<InvalidOperationException>(() => chf - eur);
        Assert.Throws<InvalidOperationException>(() => Money.Zero("JPY") + Money.Zero("KRW"));
    }

    [Fact]
    public void Arithmetic_overflow_throws_instead_of_wrapping()
    {
        var max = new Money(long.MaxValue, "CHF");
        var min = new Money(long.MinValue, "CHF");
        var one = Money.Of(1, "CHF");

        Assert.Throws<OverflowException>(() => max + one);
        Assert.Throws<OverflowException>(() => min - one);
        Assert.Throws<OverflowException>(() => one - min);
        Assert.Throws<OverflowException>(() => max.Times(2));
        Assert.Throws<OverflowException>(() => new Money(long.MaxValue / 10, "CHF").Times(11));
        Assert.Equal(new Money(long.MaxValue, "CHF"), new Money(long.MaxValue - 1, "CHF") + one);
    }

    [Theory]
    [InlineData(5000, "CHF", "CHF 50.00")]
    [InlineData(5, "CHF", "CHF 0.05")]
    [InlineData(0, "CHF", "CHF 0.00")]
    [InlineData(-150, "CHF", "CHF -1.50")]
    [InlineData(5000, "JPY", "JPY 5000")]
    [InlineData(1234, "KWD", "KWD 1.234")]
    [InlineData(7, "BHD", "BHD 0.007")]
    [InlineData(123456789, "EUR", "EUR 1234567.89")]
    [InlineData(long.MaxValue, "CHF", "CHF 92233720368547758.07")]
    [InlineData(long.MaxValue, "JPY", "JPY 9223372036854775807")]
    public void ToString_uses_the_currency_minor_digits(long amount, string currency, string expected)
    {
        Assert.Equal(expected, Money.Of(amount, currency).ToString());
    }

    [Fact]
    public void ToString_does_not_depend_on_the_current_culture()
    {
        var before = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            Assert.Equal("CHF 1234.50", Money.Of(123450, "CHF").ToString());
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("fr-CH");
            Assert.Equal("EUR 0.99", Money.Of(99, "EUR").ToString());
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }

    [Fact]
    public void Currencies_know_their_minor_digits()
    {
        Assert.Equal(2, Currencies.MinorDigits("CHF"));
        Assert.Equal(0, Currencies.MinorDigits("JPY"));
        Assert.Equal(0, Currencies.MinorDigits("CLP"));
        Assert.Equal(3, Currencies.MinorDigits("KWD"));
        Assert.All(Currencies.All, code => Assert.True(Currencies.TryNormalize(code.ToLowerInvariant(), out var n) && n == code));
        Assert.All(Currencies.All, code => Assert.Matches("^[A-Z]{3}$", code));
        Assert.False(Currencies.TryNormalize("XYZ", out _));
    }

    [Theory]
    [InlineData(0L, 290, 30L, 0L)] // nothing sold: no fee, not even the fixed part
    [InlineData(0L, 0, 0L, 0L)]
    [InlineData(10_000L, 290, 0L, 290L)] // exact
    [InlineData(1L, 5_000, 0L, 1L)] // 0.5 rounds up
    [InlineData(1L, 4_999, 0L, 0L)] // 0.4999 rounds down
    [InlineData(3L, 5_000, 0L, 2L)] // 1.5 rounds up (not to even)
    [InlineData(5L, 5_000, 0L, 3L)] // 2.5 rounds up (not to even)
    [InlineData(4_500L, 290, 30L, 161L)] // 130.5 → 131, + 30
    [InlineData(4_499L, 290, 30L, 160L)] // 130.471 → 130, + 30
    [InlineData(100L, 0, 50L, 50L)] // fixed part only
    [InlineData(12_345L, 10_000, 0L, 12_345L)] // 100 %
    [InlineData(1_000_000_000_000L, 290, 0L, 29_000_000_000L)] // 10 bn CHF
    [InlineData(50_000_000_000_000_000L, 150, 0L, 750_000_000_000_000L)] // near the top of what fits
    public void Fee_rounds_half_up_in_integers(long amount, int basisPoints, long fixedPart, long expected)
    {
        Assert.Equal(expected, MerchantBooks.Fee(amount, basisPoints, fixedPart));
    }

    [Fact]
    public void Fee_on_an_amount_too_large_to_multiply_throws_instead_of_wrapping()
    {
        Assert.Throws<OverflowException>(() => MerchantBooks.Fee(long.MaxValue / 100, 290, 0));
        Assert.Throws<OverflowException>(() => MerchantBooks.Fee(long.MaxValue / 10_000, 10_000, long.MaxValue));
    }
}
