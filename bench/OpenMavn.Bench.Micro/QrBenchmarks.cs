using BenchmarkDotNet.Attributes;
using OpenMavn.Core.Vouchers;
using QRCoder;

namespace OpenMavn.Bench.Micro;

/// <summary>
/// QR images of a voucher code, with the QRCoder calls the API (CustomerApi's VoucherQr: level Q, 10 pixels per
/// module, PNG and SVG) and the email renderer (NotificationRenderer: level Q, PNG at 6 pixels per module) make.
/// </summary>
[Config(typeof(ShortConfig))]
[MemoryDiagnoser]
public class QrBenchmarks
{
    private string _code = "";

    [GlobalSetup]
    public void Setup() => _code = VoucherCode.Generate();

    [Benchmark]
    public byte[] ApiPng()
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(_code, QRCodeGenerator.ECCLevel.Q);
        using var png = new PngByteQRCode(data);
        return png.GetGraphic(10);
    }

    [Benchmark]
    public string ApiSvg()
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(_code, QRCodeGenerator.ECCLevel.Q);
        using var svg = new SvgQRCode(data);
        return svg.GetGraphic(10);
    }

    [Benchmark]
    public byte[] EmailPng()
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(_code, QRCodeGenerator.ECCLevel.Q);
        using var png = new PngByteQRCode(data);
        return png.GetGraphic(6);
    }
}
