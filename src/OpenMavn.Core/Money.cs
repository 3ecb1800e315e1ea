using System.Globalization;

namespace OpenMavn.Core;

/// <summary>
/// An amount of money in integer minor units (cents, Rappen) of an ISO 4217 currency.
/// Floating point is never used for money; <see cref="decimal"/> appears only when formatting for people.
/// </summary>
/// <param name="Amount">The amount in the currency's smallest unit.</param>
/// <param name="Currency">The upper-case ISO 4217 code.</param>
public readonly record struct Money(long Amount, string Currency)
{
    /// <summary>Creates a money value, checking that the currency is a known ISO 4217 code.</summary>
    public static Money Of(long amount, string currency)
    {
        if (!Currencies.TryNormalize(currency, out var code))
        {
            throw new ArgumentException($"'{currency}' is not a supported ISO 4217 currency code.", nameof(currency));
        }

        return new Money(amount, code);
    }

    /// <summary>Zero in <paramref name="currency"/>.</summary>
    public static Money Zero(string currency) => Of(0, currency);

    /// <summary>Adds two amounts of the same currency; overflow throws.</summary>
    public static Money operator +(Money left, Money right)
    {
        EnsureSameCurrency(left, right);
        return new Money(checked(left.Amount + right.Amount), left.Currency);
    }

    /// <summary>Subtracts two amounts of the same currency; overflow throws.</summary>
    public static Money operator -(Money left, Money right)
    {
        EnsureSameCurrency(left, right);
        return new Money(checked(left.Amount - right.Amount), left.Currency);
    }

    /// <summary>Multiplies by a whole quantity; overflow throws.</summary>
    public Money Times(int quantity) => new(checked(Amount * quantity), Currency);

    /// <summary>Formats as e.g. <c>CHF 50.00</c>, using the currency's number of minor digits.</summary>
    public override string ToString()
    {
        var digits = Currencies.MinorDigits(Currency);
        var major = Amount / (decimal)Pow10(digits);
        return string.Create(CultureInfo.InvariantCulture, $"{Currency} {major.ToString("F" + digits, CultureInfo.InvariantCulture)}");
    }

    private static long Pow10(int digits)
    {
        long result = 1;
        for (var i = 0; i < digits; i++)
        {
            result *= 10;
        }

        return result;
    }

    private static void EnsureSameCurrency(Money left, Money right)
    {
        if (!string.Equals(left.Currency, right.Currency, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Cannot combine {left.Currency} and {right.Currency}.");
        }
    }
}

/// <summary>The ISO 4217 currencies OpenMavn accepts, with their number of minor digits.</summary>
public static class Currencies
{
    private static readonly Dictionary<string, int> Known = new(StringComparer.Ordinal)
    {
        ["AED"] = 2, ["AUD"] = 2, ["BGN"] = 2, ["BRL"] = 2, ["CAD"] = 2, ["CHF"] = 2, ["CLP"] = 0,
        ["CNY"] = 2, ["COP"] = 2, ["CZK"] = 2, ["DKK"] = 2, ["EUR"] = 2, ["GBP"] = 2, ["HKD"] = 2,
        ["HUF"] = 2, ["IDR"] = 2, ["ILS"] = 2, ["INR"] = 2, ["ISK"] = 0, ["JPY"] = 0, ["KRW"] = 0,
        ["KWD"] = 3, ["MXN"] = 2, ["MYR"] = 2, ["NOK"] = 2, ["NZD"] = 2, ["PHP"] = 2, ["PLN"] = 2,
        ["RON"] = 2, ["RSD"] = 2, ["SAR"] = 2, ["SEK"] = 2, ["SGD"] = 2, ["THB"] = 2, ["TRY"] = 2,
        ["TWD"] = 2, ["UAH"] = 2, ["USD"] = 2, ["ZAR"] = 2, ["BHD"] = 3, ["JOD"] = 3, ["OMR"] = 3,
        ["TND"] = 3, ["XOF"] = 0, ["XAF"] = 0, ["VND"] = 0,
    };

    /// <summary>All supported codes.</summary>
    public static IReadOnlyCollection<string> All => Known.Keys;

    /// <summary>Upper-cases and checks a code.</summary>
    public static bool TryNormalize(string? code, out string normalized)
    {
        normalized = (code ?? string.Empty).Trim().ToUpperInvariant();
        return normalized.Length == 3 && Known.ContainsKey(normalized);
    }

    /// <summary>The number of minor digits (2 for CHF, 0 for JPY).</summary>
    public static int MinorDigits(string code) => Known.TryGetValue(code, out var digits) ? digits : 2;
}
