using System.Globalization;
using System.Text;
using QRCoder;

namespace OpenMavn.Samples.QrBillPayments.Bills;

/// <summary>Draws the Swiss QR code of a bill as SVG: error correction level M, UTF-8, with the Swiss cross in the middle.</summary>
public static class QrBillImage
{
    /// <summary>
    /// An SVG of the QR code (one unit per module, quiet zone included) for <paramref name="payload"/>, with the Swiss
    /// cross (7/46 of the code's width, the proportions of the 46 mm code with its 7 mm cross) over the centre; level M
    /// error correction absorbs the covered modules.
    /// </summary>
    public static string Svg(string payload)
    {
        ArgumentException.ThrowIfNullOrEmpty(payload);
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(payload, QRCodeGenerator.ECCLevel.M, forceUtf8: true, utf8BOM: false, eciMode: QRCodeGenerator.EciMode.Utf8);
        var matrix = data.ModuleMatrix;
        var size = matrix.Count;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\">");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"");
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                if (matrix[y][x])
                {
                    svg.Append(CultureInfo.InvariantCulture, $"M{x} {y}h1v1h-1z");
                }
            }
        }

        svg.Append("\"/>");

        // The cross: a white margin, a black square, a white cross (arms 1/5 of the square wide, 3/5 long).
        double outer = size * 7.0 / 46.0, black = outer * 6.0 / 7.0, arm = black / 5.0, length = black * 3.0 / 5.0, centre = size / 2.0;
        svg.Append(Rect(centre, outer, outer, "#fff"))
            .Append(Rect(centre, black, black, "#000"))
            .Append(Rect(centre, arm, length, "#fff"))
            .Append(Rect(centre, length, arm, "#fff"))
            .Append("</svg>");
        return svg.ToString();
    }

    private static string Rect(double centre, double width, double height, string fill) =>
        string.Create(CultureInfo.InvariantCulture, $"<rect x=\"{centre - (width / 2):0.###}\" y=\"{centre - (height / 2):0.###}\" width=\"{width:0.###}\" height=\"{height:0.###}\" fill=\"{fill}\"/>");
}
