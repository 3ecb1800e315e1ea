using System.Text.Json;

namespace OpenMavn.Ledger.Ethereum.Contract;

/// <summary>
/// The compiled voucher ledger contract: ABI and creation bytecode from the committed
/// <c>contracts/artifacts/OpenMavnVoucherLedger.json</c>, embedded in this assembly.
/// </summary>
public static class VoucherLedgerArtifact
{
    /// <summary>Manifest resource name of the embedded artifact.</summary>
    public const string ResourceName = "OpenMavn.Ledger.Ethereum.Contract.OpenMavnVoucherLedger.json";

    private static readonly Lazy<(string Abi, string Bytecode, string Compiler)> Loaded = new(Load);

    /// <summary>The contract ABI (JSON array).</summary>
    public static string Abi => Loaded.Value.Abi;

    /// <summary>The creation bytecode, 0x-prefixed hex.</summary>
    public static string Bytecode => Loaded.Value.Bytecode;

    /// <summary>The compiler that produced the artifact (e.g. <c>solc 0.8.37+commit…</c>).</summary>
    public static string Compiler => Loaded.Value.Compiler;

    private static (string, string, string) Load()
    {
        using var stream = typeof(VoucherLedgerArtifact).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing.");
        using var document = JsonDocument.Parse(stream);
        var root = document.RootElement;
        return (
            root.GetProperty("abi").GetRawText(),
            root.GetProperty("bytecode").GetString() ?? throw new InvalidOperationException("Artifact has no bytecode."),
            root.GetProperty("compiler").GetString() ?? string.Empty);
    }
}
