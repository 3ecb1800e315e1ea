using System.Numerics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Persistence;
using OpenMavn.Ledger.Ethereum.Contract;

namespace OpenMavn.Ledger.Ethereum;

/// <summary>
/// Where the ledger contract is: the configured address, else the one a Development deploy remembered in the
/// database (the deploy transaction's row in the journal).
/// </summary>
public sealed class LedgerContractLocator
{
    private readonly IServiceScopeFactory _scopes;
    private readonly IEthereumRpc _rpc;
    private readonly string? _configured;
    private VoucherLedgerContract? _contract;

    internal LedgerContractLocator(IServiceScopeFactory scopes, IEthereumRpc rpc, IOptions<EthereumLedgerOptions> options, OperatorSigner signer)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(signer);
        _scopes = scopes;
        _rpc = rpc;
        _configured = string.IsNullOrWhiteSpace(options.Value.ContractAddress) ? null : options.Value.ContractAddress.Trim();
        OperatorAddress = signer.Address;
    }

    /// <summary>The operator account's address (the only one allowed to write).</summary>
    public string OperatorAddress { get; }

    /// <summary>True when the address comes from configuration.</summary>
    public bool IsConfigured => _configured is not null;

    /// <summary>The contract, or null while a Development deploy has not happened yet.</summary>
    public async Task<VoucherLedgerContract?> GetContractAsync(CancellationToken cancellationToken = default)
    {
        if (_contract is not null)
        {
            return _contract;
        }

        var address = _configured ?? await RememberedAsync(cancellationToken);
        if (address is null)
        {
            return null;
        }

        _contract = new VoucherLedgerContract(_rpc.Web3, address);
        return _contract;
    }

    /// <summary>The address of the last deploy this ledger made and saw mined, if any.</summary>
    internal async Task<string?> RememberedAsync(CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        return await db.ChainLedgerTransactions.AsNoTracking()
            .Where(t => t.Ledger == EthereumVoucherLedger.LedgerName && t.Kind == ChainTransactionKind.Deploy && t.ContractAddress != null
                && (t.Status == ChainTransactionStatus.Mined || t.Status == ChainTransactionStatus.Confirmed))
            .OrderByDescending(t => t.Id)
            .Select(t => t.ContractAddress)
            .FirstOrDefaultAsync(cancellationToken);
    }
}

/// <summary>EIP-1559 fee choices within the configured cap.</summary>
internal static class FeePolicy
{
    /// <summary>
    /// The fee caps for a transaction sent now, or null when the base fee is above <see cref="EthereumLedgerOptions.MaxFeePerGas"/>
    /// (then nothing is sent: it would not be mined, or only by paying more than allowed). The tip is the configured
    /// priority fee, but no more than the node's gas price asks above the base fee (0 when the base fee is 0).
    /// </summary>
    public static (BigInteger MaxFee, BigInteger Priority)? ForSending(BigInteger baseFee, BigInteger gasPrice, EthereumLedgerOptions options)
    {
        var cap = new BigInteger(options.MaxFeePerGas);
        if (baseFee > cap)
        {
            return null;
        }

        var priority = Tip(baseFee, gasPrice, options, cap - baseFee);
        var maxFee = BigInteger.Min(cap, (baseFee * 2) + priority);
        return (maxFee, priority);
    }

    /// <summary>The price per gas a quote uses: base fee plus the tip (0 on a zero-fee chain).</summary>
    public static BigInteger QuotePrice(BigInteger baseFee, BigInteger gasPrice, EthereumLedgerOptions options) =>
        baseFee + Tip(baseFee, gasPrice, options, options.MaxPriorityFeePerGas);

    /// <summary>
    /// The configured tip, no more than the node suggests above the base fee, within <paramref name="limit"/>; 0 when
    /// the base fee is 0 (a zero-fee chain such as a private network or anvil <c>--base-fee 0</c>: nothing to outbid).
    /// </summary>
    private static BigInteger Tip(BigInteger baseFee, BigInteger gasPrice, EthereumLedgerOptions options, BigInteger limit) =>
        baseFee.IsZero
            ? BigInteger.Zero
            : BigInteger.Max(BigInteger.Zero, BigInteger.Min(BigInteger.Min(options.MaxPriorityFeePerGas, limit), gasPrice - baseFee));
}
