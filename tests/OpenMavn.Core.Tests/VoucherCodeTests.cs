using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Tests;

public sealed class VoucherCodeTests
{
    private const string Alphabet = VoucherCode.Alphabet;

    [Fact]
    public void The_alphabet_has_32_distinct_unambiguous_symbols_and_codes_carry_at_least_80_bits()
    {
        Assert.Equal(32, Alphabet.Distinct().Count());
        Assert.DoesNotContain('I', Alphabet);
        Assert.DoesNotContain('L', Alphabet);
        Assert.DoesNotContain('O', Alphabet);
        Assert.DoesNotContain('U', Alphabet);
        Assert.True(VoucherCode.EntropyBits >= 80, $"only {VoucherCode.EntropyBits} bits");
        Assert.Equal(VoucherCode.RandomSymbols * 5, VoucherCode.EntropyBits);
        Assert.Equal(20, VoucherCode.Length);
    }

    [Fact]
    public void Generate_gives_20_symbols_from_the_alphabet_that_parse_back_to_themselves()
    {
        for (var i = 0; i < 2_000; i++)
        {
            var code = VoucherCode.Generate();

            Assert.Equal(20, code.Length);
            Assert.All(code, c => Assert.Contains(c, Alphabet));
            Assert.True(VoucherCode.TryParse(code, out var canonical, out var error), error);
            Assert.Equal(code, canonical);
            Assert.Equal("", error);
            Assert.True(VoucherCode.TryParse(VoucherCode.Format(code), out var fromFormatted, out _));
            Assert.Equal(code, fromFormatted);
        }
    }

    [Fact]
    public void Format_groups_by_four_with_dashes()
    {
        Assert.Equal("0123-4567-89AB-CDEF-GHJK", VoucherCode.Format("0123456789ABCDEFGHJK"));
        Assert.Equal("ABCD-EF", VoucherCode.Format("ABCDEF"));
        Assert.Equal("", VoucherCode.Format(""));
        for (var i = 0; i < 100; i++)
        {
            var code = VoucherCode.Generate();
            var formatted = VoucherCode.Format(code);
            Assert.Matches("^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$", formatted);
            Assert.Equal(code, formatted.Replace("-", "", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Twenty_thousand_codes_are_unique_and_share_no_long_prefixes()
    {
        var codes = Enumerable.Range(0, 20_000).Select(_ => VoucherCode.Generate()).ToList();

        Assert.Equal(codes.Count, codes.Distinct(StringComparer.Ordinal).Count());

        // Consecutive codes: a counter or a time-based prefix would show up here. Random codes share ≥ 6 leading
        // symbols with probability 32^-6 per pair (≈ 2·10^-5 over the whole run).
        var longestConsecutive = codes.Zip(codes.Skip(1), CommonPrefix).Max();
        Assert.True(longestConsecutive < 6, $"two consecutive codes share {longestConsecutive} leading symbols");

        // Any two codes at all (neighbours after sorting): ~2·10^8 pairs, so ~5.5 shared symbols are expected; 10 would
        // happen with probability ~2·10^-7.
        var sorted = codes.Order(StringComparer.Ordinal).ToList();
        var longestAny = sorted.Zip(sorted.Skip(1), CommonPrefix).Max();
        Assert.True(longestAny < 10, $"two codes share {longestAny} leading symbols");

        // Nor long common suffixes (the check symbol alone is shared by 1/32 of pairs).
        var byReverse = codes.Select(c => new string(c.Reverse().ToArray())).Order(StringComparer.Ordinal).ToList();
        var longestSuffix = byReverse.Zip(byReverse.Skip(1), CommonPrefix).Max();
        Assert.True(longestSuffix < 10, $"two codes share {longestSuffix} trailing symbols");
    }

    [Fact]
    public void Every_symbol_is_about_equally_frequent_at_every_position()
    {
        const int count = 32_000;
        var frequencies = new int[VoucherCode.Length, 32];
        for (var i = 0; i < count; i++)
        {
            var code = VoucherCode.Generate();
            for (var p = 0; p < code.Length; p++)
            {
                frequencies[p, Alphabet.IndexOf(code[p], StringComparison.Ordinal)]++;
            }
        }

        const double expected = count / 32.0; // 1000; one standard deviation ≈ 31
        for (var p = 0; p < VoucherCode.Length; p++)
        {
            double chiSquare = 0;
            for (var s = 0; s < 32; s++)
            {
                var observed = frequencies[p, s];
                Assert.True(
                    observed is > (int)(expected * 0.5) and < (int)(expected * 1.5),
                    $"symbol {Alphabet[s]} at position {p} appeared {observed} times (expected ≈ {expected})");
                chiSquare += (observed - expected) * (observed - expected) / expected;
            }

            // 31 degrees of freedom: mean 31, sd ≈ 7.9. 120 is more than 11 sd away: it never flakes, but a symbol
            // that is 30 % too frequent at one position fails it.
            Assert.True(chiSquare < 120, $"position {p}: chi² = {chiSquare:F1}");
        }
    }

    [Fact]
    public void Every_single_symbol_substitution_is_caught_by_the_check_symbol()
    {
        var tested = 0;
        for (var n = 0; n < 200; n++)
        {
            var code = VoucherCode.Generate();
            for (var p = 0; p < code.Length; p++)
            {
                foreach (var other in Alphabet)
                {
                    if (other == code[p])
                    {
                        continue;
                    }

                    var typo = string.Concat(code.AsSpan(0, p), other.ToString(), code.AsSpan(p + 1));
                    Assert.False(VoucherCode.TryParse(typo, out var canonical, out var error), $"{typo} (from {code}) was accepted");
                    Assert.Equal("", canonical);
                    Assert.Contains("check", error, StringComparison.OrdinalIgnoreCase);
                    tested++;
                }
            }
        }

        Assert.Equal(200 * 20 * 31, tested);
    }

    [Fact]
    public void Swapping_two_different_neighbouring_symbols_is_always_caught()
    {
        var swaps = 0;
        var caught = 0;
        for (var n = 0; n < 2_000; n++)
        {
            var code = VoucherCode.Generate();
            for (var p = 0; p + 1 < code.Length; p++)
            {
                if (code[p] == code[p + 1])
                {
                    continue;
                }

                var chars = code.ToCharArray();
                (chars[p], chars[p + 1]) = (chars[p + 1], chars[p]);
                swaps++;
                if (!VoucherCode.TryParse(new string(chars), out _, out _))
                {
                    caught++;
                }
            }
        }

        Assert.True(swaps > 30_000, $"only {swaps} swaps measured");
        Assert.Equal(swaps, caught);
    }

    [Fact]
    public void A_swap_of_the_symbols_worth_0_and_31_is_caught_which_Luhn_mod_32_would_miss()
    {
        // Every code whose first two random symbols are 0 and Z: the check symbol must change when they swap.
        for (var i = 0; i < 200; i++)
        {
            var code = "0Z" + VoucherCode.Generate()[2..VoucherCode.RandomSymbols];
            var valid = code + VoucherCode.Alphabet[VoucherCode.CheckValue(code)];
            var swapped = "Z0" + valid[2..];
            Assert.True(VoucherCode.TryParse(valid, out _, out _));
            Assert.False(VoucherCode.TryParse(swapped, out _, out _), swapped);
        }
    }

    [Fact]
    public void Typed_input_is_normalized_case_spaces_dashes_and_confusable_letters()
    {
        var code = CodeWith('0', '1');
        var formatted = VoucherCode.Format(code);
        var confusable = code.Replace('0', 'O').Replace('1', 'I');
        var confusableL = code.Replace('1', 'l');

        string[] inputs =
        [
            code,
            code.ToLowerInvariant(),
            formatted,
            formatted.ToLowerInvariant(),
            formatted.Replace('-', ' '),
            "  " + string.Join("  ", code.Chunk(2).Select(c => new string(c))) + " \t",
            string.Join("-", code.ToCharArray()),
            confusable,
            confusable.ToLowerInvariant(),
            confusableL,
            VoucherCode.Format(confusableL).ToLowerInvariant(),
        ];

        Assert.Contains('0', code);
        Assert.Contains('1', code);
        foreach (var input in inputs)
        {
            Assert.True(VoucherCode.TryParse(input, out var canonical, out var error), $"'{input}' refused: {error}");
            Assert.Equal(code, canonical);
        }
    }

    [Fact]
    public void Characters_outside_the_alphabet_are_refused_with_a_reason()
    {
        var code = VoucherCode.Generate();
        foreach (var bad in new[] { 'U', 'u', '*', 'é', '_', '.', '\u00A0', 'Ø' })
        {
            var input = string.Concat(code.AsSpan(0, 5), bad.ToString(), code.AsSpan(6));

            Assert.False(VoucherCode.TryParse(input, out var canonical, out var error), $"'{input}' accepted");
            Assert.Equal("", canonical);
            Assert.Contains("character", error, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData(null, "empty")]
    [InlineData("ABCD", "20 characters")]
    public void Empty_or_short_input_is_refused_with_a_reason(string? input, string reason)
    {
        Assert.False(VoucherCode.TryParse(input, out var canonical, out var error));
        Assert.Equal("", canonical);
        Assert.Contains(reason, error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Codes_one_symbol_too_long_or_too_short_are_refused_with_a_reason()
    {
        var code = VoucherCode.Generate();

        Assert.False(VoucherCode.TryParse(code[..19], out _, out var shortError));
        Assert.Contains("20 characters", shortError, StringComparison.Ordinal);
        Assert.False(VoucherCode.TryParse(code + "0", out _, out var longError));
        Assert.Contains("20 characters", longError, StringComparison.Ordinal);
        Assert.False(VoucherCode.TryParse(code + code, out _, out var doubleError));
        Assert.Contains("20 characters", doubleError, StringComparison.Ordinal);
        Assert.False(VoucherCode.TryParse(new string('-', 60) + code, out _, out var paddedError));
        Assert.Contains("too long", paddedError, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A valid code whose payload contains the given symbols (to test O/0 and I/L/1).</summary>
    private static string CodeWith(params char[] symbols)
    {
        var payload = (new string(symbols) + VoucherCode.Generate())[..VoucherCode.RandomSymbols];
        return payload + Alphabet[VoucherCode.CheckValue(payload)];
    }

    private static int CommonPrefix(string a, string b)
    {
        var i = 0;
        while (i < a.Length && i < b.Length && a[i] == b[i])
        {
            i++;
        }

        return i;
    }
}
