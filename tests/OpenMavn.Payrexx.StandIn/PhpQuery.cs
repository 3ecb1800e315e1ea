using System.Globalization;
using System.Text;

namespace OpenMavn.Payrexx.StandIn;

/// <summary>
/// What a PHP server does with a query string or form body: <c>parse_str</c> the decoded pairs into a (nested,
/// ordered) array, and <c>http_build_query</c> it back, RFC 1738 style. Payrexx recomputes <c>ApiSignature</c> this
/// way, so a client that signs anything else than what PHP rebuilds from the wire is refused.
/// </summary>
public static class PhpQuery
{
    /// <summary>PHP <c>urlencode</c>: keeps A–Z a–z 0–9 <c>- _ .</c>, space → <c>+</c>, every other UTF-8 byte → <c>%XX</c> uppercase.</summary>
    public static string UrlEncode(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(value.Length * 2);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.')
            {
                builder.Append(c);
            }
            else if (c == ' ')
            {
                builder.Append('+');
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <summary>PHP <c>urldecode</c>: <c>+</c> → space, <c>%XX</c> → byte, bytes read as UTF-8.</summary>
    public static string UrlDecode(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Uri.UnescapeDataString(value.Replace('+', ' '));
    }

    /// <summary>Splits a raw query string or form body into decoded (name, value) pairs, in the order sent.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ParsePairs(string? raw)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        if (string.IsNullOrEmpty(raw))
        {
            return pairs;
        }

        foreach (var piece in raw.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = piece.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? piece : piece[..equals];
            var value = equals < 0 ? string.Empty : piece[(equals + 1)..];
            pairs.Add(new(UrlDecode(name), UrlDecode(value)));
        }

        return pairs;
    }

    /// <summary>
    /// PHP <c>parse_str</c> of decoded pairs: <c>a[b][c]=x</c> nests, <c>a[]=x</c> appends with the next integer
    /// key, a repeated name overwrites the value but keeps its first position, and spaces and dots in the top-level
    /// name become underscores. Leaves are <see cref="string"/>, arrays are <see cref="PhpArray"/>.
    /// </summary>
    public static PhpArray Parse(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var root = new PhpArray();
        foreach (var (name, value) in pairs)
        {
            var keys = SplitName(name);
            if (keys is null)
            {
                continue;
            }

            var current = root;
            for (var i = 0; i < keys.Count; i++)
            {
                var key = keys[i] ?? current.NextIndex();
                if (i == keys.Count - 1)
                {
                    current.Set(key, value);
                    break;
                }

                if (current.TryGet(key, out var existing) && existing is PhpArray child)
                {
                    current = child;
                }
                else
                {
                    child = new PhpArray();
                    current.Set(key, child);
                    current = child;
                }
            }
        }

        return root;
    }

    /// <summary>PHP <c>http_build_query($array, '', '&amp;')</c>: empty arrays are left out, nested keys as <c>a%5Bb%5D</c>.</summary>
    public static string Build(PhpArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        var parts = new List<string>();
        Append(parts, array, prefix: null);
        return string.Join('&', parts);
    }

    /// <summary><see cref="Build(PhpArray)"/> of <see cref="Parse"/>: what a PHP server rebuilds from what it received.</summary>
    public static string Rebuild(IEnumerable<KeyValuePair<string, string>> pairs) => Build(Parse(pairs));

    private static void Append(List<string> parts, PhpArray array, string? prefix)
    {
        foreach (var (key, value) in array.Entries)
        {
            var name = prefix is null ? UrlEncode(key) : $"{prefix}%5B{UrlEncode(key)}%5D";
            if (value is PhpArray child)
            {
                Append(parts, child, name);
            }
            else
            {
                parts.Add($"{name}={UrlEncode((string)value)}");
            }
        }
    }

    // "a[b][]" → ["a", "b", null]; null = append. Returns null for a name PHP ignores (empty base).
    private static List<string?>? SplitName(string name)
    {
        var open = name.IndexOf('[', StringComparison.Ordinal);
        var baseName = open < 0 ? name : name[..open];
        baseName = baseName.TrimStart(' ').Replace(' ', '_').Replace('.', '_');
        if (baseName.Length == 0)
        {
            return null;
        }

        var keys = new List<string?> { baseName };
        var position = open;
        while (position >= 0 && position < name.Length && name[position] == '[')
        {
            var close = name.IndexOf(']', position + 1);
            if (close < 0)
            {
                // An unclosed bracket: PHP turns it into '_' and keeps the rest as part of the base name.
                if (keys.Count == 1)
                {
                    keys[0] = baseName + "_" + name[(position + 1)..];
                }

                break;
            }

            var inner = name[(position + 1)..close];
            keys.Add(inner.Length == 0 ? null : inner);
            position = close + 1;
        }

        return keys;
    }
}

/// <summary>An ordered PHP array: string keys (integer keys as their decimal text), values <see cref="string"/> or <see cref="PhpArray"/>.</summary>
public sealed class PhpArray
{
    private readonly List<string> _order = [];
    private readonly Dictionary<string, object> _values = new(StringComparer.Ordinal);

    /// <summary>The entries in insertion order.</summary>
    public IEnumerable<KeyValuePair<string, object>> Entries => _order.Select(k => new KeyValuePair<string, object>(k, _values[k]));

    /// <summary>The number of entries.</summary>
    public int Count => _order.Count;

    /// <summary>The value under <paramref name="key"/>, if any.</summary>
    public bool TryGet(string key, out object? value)
    {
        var found = _values.TryGetValue(key, out var stored);
        value = stored;
        return found;
    }

    /// <summary>The string value under <paramref name="key"/>, or null when absent or an array.</summary>
    public string? GetString(string key) => _values.TryGetValue(key, out var value) ? value as string : null;

    /// <summary>The array under <paramref name="key"/>, or null when absent or a string.</summary>
    public PhpArray? GetArray(string key) => _values.TryGetValue(key, out var value) ? value as PhpArray : null;

    internal void Set(string key, object value)
    {
        if (!_values.ContainsKey(key))
        {
            _order.Add(key);
        }

        _values[key] = value;
    }

    internal string NextIndex()
    {
        var max = -1L;
        foreach (var key in _order)
        {
            if (long.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index > max)
            {
                max = index;
            }
        }

        return (max + 1).ToString(CultureInfo.InvariantCulture);
    }
}
