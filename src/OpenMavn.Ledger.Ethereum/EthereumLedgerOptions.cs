using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace OpenMavn.Ledger.Ethereum;

/// <summary>Settings of the Ethereum ledger (<c>OpenMavn:Ledger:Ethereum</c>).</summary>
public sealed class EthereumLedgerOptions
{
    /// <summary>The configuration section, below <c>OpenMavn</c>.</summary>
    public const string SectionName = "Ledger:Ethereum";

    /// <summary>The node's JSON-RPC endpoint (http or https).</summary>
    public string RpcUrl { get; set; } = "";

    /// <summary>The chain id the node must report (1 mainnet, 31337 anvil, …); nothing is sent to another chain.</summary>
    public long ChainId { get; set; }

    /// <summary>
    /// The ledger contract's address. Empty in Development: the contract is deployed on start and its address kept in
    /// the database, so a restart reuses it. Required outside Development.
    /// </summary>
    public string? ContractAddress { get; set; }

    /// <summary>The operator account's private key (32 bytes hex). From secrets; never logged.</summary>
    public string OperatorPrivateKey { get; set; } = "";

    /// <summary>Blocks on top of a write's block (its own included) before it counts as final. Default 12; 0 = final when mined.</summary>
    public int Confirmations { get; set; } = 12;

    /// <summary>Voucher events per transaction, at most. Default 200.</summary>
    public int BatchSize { get; set; } = 200;

    /// <summary>Never pay more than this per gas, in wei: while the base fee is above it, writes wait. Default 100 gwei.</summary>
    public long MaxFeePerGas { get; set; } = 100_000_000_000;

    /// <summary>The priority fee (tip) per gas, in wei, within <see cref="MaxFeePerGas"/>. Default 1 gwei.</summary>
    public long MaxPriorityFeePerGas { get; set; } = 1_000_000_000;

    /// <summary>Transactions in flight (sent, not mined) at once. Default 4.</summary>
    public int MaxInFlightTransactions { get; set; } = 4;

    /// <summary>Pause between rounds of the sender when there is nothing to do. Default 2 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A sent transaction without a receipt for this long is broadcast again (the same signed bytes). Default 1 min.</summary>
    public TimeSpan RebroadcastAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Timeout of one JSON-RPC request. Default 15 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a host keeps the right to send after its last round (one sender at a time). Default 30 s.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many times an event is sent again (after a revert, a dropped transaction or out of order) before it fails. Default 5.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The health check reports degraded when the oldest unsent event is older than this. Default 10 min.</summary>
    public TimeSpan QueueDelayDegradedAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The chain's currency symbol in fee quotes. Default ETH.</summary>
    public string NativeCurrency { get; set; } = "ETH";
}

/// <summary>Validates <see cref="EthereumLedgerOptions"/> at start-up; messages name the setting, never a secret value.</summary>
internal sealed class EthereumLedgerOptionsValidator(IServiceProvider services) : IValidateOptions<EthereumLedgerOptions>
{
    private const string Prefix = "OpenMavn:Ledger:Ethereum:";

    private static readonly System.Buffers.SearchValues<char> Hex = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    public ValidateOptionsResult Validate(string? name, EthereumLedgerOptions options)
    {
        var failures = new List<string>();
        void Check(bool bad, string setting, string message)
        {
            if (bad)
            {
                failures.Add(Prefix + setting + " " + message);
            }
        }

        Check(
            !Uri.TryCreate(options.RpcUrl, UriKind.Absolute, out var rpc) || (rpc.Scheme != Uri.UriSchemeHttp && rpc.Scheme != Uri.UriSchemeHttps),
            nameof(options.RpcUrl),
            "must be the node's absolute http(s) JSON-RPC URL.");
        Check(options.ChainId <= 0, nameof(options.ChainId), "must be the chain's positive id (31337 for anvil).");
        if (string.IsNullOrWhiteSpace(options.ContractAddress))
        {
            Check(!IsDevelopment(), nameof(options.ContractAddress), "is required outside the Development environment (there the contract is deployed on start).");
        }
        else
        {
            Check(!IsAddress(options.ContractAddress), nameof(options.ContractAddress), "must be a 0x-prefixed 20-byte hex address.");
        }

        Check(!OperatorKey.IsWellFormed(options.OperatorPrivateKey), nameof(options.OperatorPrivateKey), "must be a 32-byte hex private key (64 hex digits, optionally 0x-prefixed); keep it in secrets, not in appsettings.");
        Check(options.Confirmations is < 0 or > 10_000, nameof(options.Confirmations), "must be between 0 and 10000.");
        Check(options.BatchSize is < 1 or > 2_000, nameof(options.BatchSize), "must be between 1 and 2000.");
        Check(options.MaxFeePerGas < 0, nameof(options.MaxFeePerGas), "must be zero or a positive number of wei.");
        Check(options.MaxPriorityFeePerGas < 0, nameof(options.MaxPriorityFeePerGas), "must be zero or a positive number of wei.");
        Check(options.MaxInFlightTransactions is < 1 or > 64, nameof(options.MaxInFlightTransactions), "must be between 1 and 64.");
        Check(options.PollInterval <= TimeSpan.Zero || options.PollInterval > TimeSpan.FromHours(1), nameof(options.PollInterval), "must be positive and at most 1 hour.");
        Check(options.RebroadcastAfter <= TimeSpan.Zero, nameof(options.RebroadcastAfter), "must be positive.");
        Check(options.RequestTimeout <= TimeSpan.Zero || options.RequestTimeout > TimeSpan.FromMinutes(10), nameof(options.RequestTimeout), "must be positive and at most 10 minutes.");
        Check(options.LeaseDuration < TimeSpan.FromSeconds(1), nameof(options.LeaseDuration), "must be at least 1 second.");
        Check(options.MaxAttempts is < 1 or > 1_000, nameof(options.MaxAttempts), "must be between 1 and 1000.");
        Check(options.QueueDelayDegradedAfter <= TimeSpan.Zero, nameof(options.QueueDelayDegradedAfter), "must be positive.");
        Check(string.IsNullOrWhiteSpace(options.NativeCurrency), nameof(options.NativeCurrency), "must name the chain's currency (ETH).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static bool IsAddress(string value) =>
        value.Length == 42 && value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && IsHex(value.AsSpan(2));

    internal static bool IsHex(ReadOnlySpan<char> value) => !value.ContainsAnyExcept(Hex);

    private bool IsDevelopment() => services.GetService<IHostEnvironment>()?.IsDevelopment() == true;
}

/// <summary>The operator key: parsed without ever putting its text into a message.</summary>
internal static class OperatorKey
{
    private static readonly System.Numerics.BigInteger CurveOrder =
        System.Numerics.BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    public static bool IsWellFormed(string? key)
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            return false;
        }

        var hex = Strip(key);
        if (hex.Length != 64 || !EthereumLedgerOptionsValidator.IsHex(hex))
        {
            return false;
        }

        var value = System.Numerics.BigInteger.Parse("0" + hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return value > 0 && value < CurveOrder;
    }

    public static string Strip(string key)
    {
        var trimmed = key.Trim();
        return trimmed.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? trimmed[2..] : trimmed;
    }
}
