using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace OpenMavn.AspNetCore.Http;

/// <summary>
/// RFC 4180 CSV in the invariant culture, safe to open in a spreadsheet: a text cell starting with = + - @ (or a tab
/// or carriage return) is prefixed with a single quote, so it is never taken for a formula.
/// </summary>
internal sealed class Csv
{
    private readonly StringBuilder _text = new();

    public Csv(params string[] header) => Row(header);

    public void Row(params object?[] cells)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                _text.Append(',');
            }

            _text.Append(Cell(cells[i]));
        }

        _text.Append("\r\n");
    }

    public FileContentHttpResult ToFile(string name) =>
        TypedResults.File(Encoding.UTF8.GetBytes(_text.ToString()), "text/csv; charset=utf-8", name);

    internal static string Cell(object? value)
    {
        var text = value switch
        {
            null => "",
            DateTimeOffset d => d.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };

        // Numbers are written as they are (a negative amount stays a number); any other text is neutralised.
        if (value is string && text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            text = "'" + text;
        }

        return text.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }
}
