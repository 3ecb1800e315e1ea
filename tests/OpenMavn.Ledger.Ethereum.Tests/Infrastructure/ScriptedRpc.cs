using System.Numerics;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Web3;

namespace OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

/// <summary>A crash injected into the worker: the process "dies" here (nothing after it runs).</summary>
internal sealed class SimulatedCrashException(string where) : Exception("Simulated crash: " + where);

/// <summary>
/// Wraps the real RPC calls with hooks a test sets: crash before or after a broadcast, on a receipt, swallow a
/// broadcast (the node never sees it), or count calls.
/// </summary>
internal sealed class ScriptedRpc(IEthereumRpc inner) : IEthereumRpc
{
    private int _broadcasts;

    /// <summary>Called with the 1-based broadcast number before the real call; return false to swallow it.</summary>
    public Func<int, bool>? BeforeBroadcast { get; set; }

    /// <summary>Called after the real broadcast succeeded.</summary>
    public Action<int>? AfterBroadcast { get; set; }

    /// <summary>Called before a receipt is asked for.</summary>
    public Action<string>? BeforeReceipt { get; set; }

    /// <summary>Replaces the real gas estimate when set.</summary>
    public long? FixedGasEstimate { get; set; }

    public int Broadcasts => _broadcasts;

    public IWeb3 Web3 => inner.Web3;

    public Task<long> GetChainIdAsync(CancellationToken cancellationToken = default) => inner.GetChainIdAsync(cancellationToken);

    public Task<long> GetBlockNumberAsync(CancellationToken cancellationToken = default) => inner.GetBlockNumberAsync(cancellationToken);

    public Task<EthereumBlock?> GetBlockAsync(long? number, CancellationToken cancellationToken = default) => inner.GetBlockAsync(number, cancellationToken);

    public Task<long> GetTransactionCountAsync(string address, bool pending, CancellationToken cancellationToken = default) => inner.GetTransactionCountAsync(address, pending, cancellationToken);

    public Task<TransactionReceipt?> GetTransactionReceiptAsync(string transactionHash, CancellationToken cancellationToken = default)
    {
        BeforeReceipt?.Invoke(transactionHash);
        return inner.GetTransactionReceiptAsync(transactionHash, cancellationToken);
    }

    public async Task<string> SendRawTransactionAsync(string signedTransaction, CancellationToken cancellationToken = default)
    {
        var n = Interlocked.Increment(ref _broadcasts);
        if (BeforeBroadcast?.Invoke(n) == false)
        {
            return "0x";
        }

        var hash = await inner.SendRawTransactionAsync(signedTransaction, cancellationToken);
        AfterBroadcast?.Invoke(n);
        return hash;
    }

    public Task<long> EstimateGasAsync(string from, string? to, string data, CancellationToken cancellationToken = default) =>
        FixedGasEstimate is { } gas ? Task.FromResult(gas) : inner.EstimateGasAsync(from, to, data, cancellationToken);

    public Task<string> GetCodeAsync(string address, CancellationToken cancellationToken = default) => inner.GetCodeAsync(address, cancellationToken);

    public Task<BigInteger> GetGasPriceAsync(CancellationToken cancellationToken = default) => inner.GetGasPriceAsync(cancellationToken);
}
