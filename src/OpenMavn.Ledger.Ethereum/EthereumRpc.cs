using System.Net.Sockets;
using System.Numerics;
using Nethereum.Hex.HexTypes;
using Nethereum.JsonRpc.Client;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Web3;

namespace OpenMavn.Ledger.Ethereum;

/// <summary>A block as the sender needs it.</summary>
/// <param name="Number">Height.</param>
/// <param name="Hash">Block hash.</param>
/// <param name="BaseFeePerGas">EIP-1559 base fee, wei (0 when the chain has none).</param>
/// <param name="GasLimit">The block's gas limit.</param>
public sealed record EthereumBlock(long Number, string Hash, BigInteger BaseFeePerGas, long GasLimit);

/// <summary>
/// The JSON-RPC calls the Ethereum ledger makes, one interface so that a host (or a test) can wrap them. Failures
/// surface as Nethereum's RPC exceptions (<see cref="RpcClientUnknownException"/>, <see cref="RpcResponseException"/>,
/// timeouts); the ledger treats them as "try again next round".
/// </summary>
public interface IEthereumRpc
{
    /// <summary>A Web3 client on the same node (contract views).</summary>
    IWeb3 Web3 { get; }

    /// <summary><c>eth_chainId</c>.</summary>
    Task<long> GetChainIdAsync(CancellationToken cancellationToken = default);

    /// <summary><c>eth_blockNumber</c>.</summary>
    Task<long> GetBlockNumberAsync(CancellationToken cancellationToken = default);

    /// <summary><c>eth_getBlockByNumber</c> (null number = latest); null when there is no such block.</summary>
    Task<EthereumBlock?> GetBlockAsync(long? number, CancellationToken cancellationToken = default);

    /// <summary><c>eth_getTransactionCount</c> at the latest block, or including the node's pending transactions.</summary>
    Task<long> GetTransactionCountAsync(string address, bool pending, CancellationToken cancellationToken = default);

    /// <summary><c>eth_getTransactionReceipt</c>; null while not mined.</summary>
    Task<TransactionReceipt?> GetTransactionReceiptAsync(string transactionHash, CancellationToken cancellationToken = default);

    /// <summary><c>eth_sendRawTransaction</c>; answers the hash.</summary>
    Task<string> SendRawTransactionAsync(string signedTransaction, CancellationToken cancellationToken = default);

    /// <summary><c>eth_estimateGas</c>.</summary>
    Task<long> EstimateGasAsync(string from, string? to, string data, CancellationToken cancellationToken = default);

    /// <summary><c>eth_getCode</c> at the latest block.</summary>
    Task<string> GetCodeAsync(string address, CancellationToken cancellationToken = default);

    /// <summary><c>eth_gasPrice</c> (base fee plus the tip the node suggests).</summary>
    Task<BigInteger> GetGasPriceAsync(CancellationToken cancellationToken = default);
}

/// <summary>The JSON-RPC calls over Nethereum, with the configured request timeout.</summary>
public sealed class NethereumRpc : IEthereumRpc, IDisposable
{
    private readonly HttpClient _http;

    /// <summary>Talks to <paramref name="rpcUrl"/>.</summary>
    /// <param name="rpcUrl">The node's JSON-RPC endpoint.</param>
    /// <param name="requestTimeout">Timeout of one request.</param>
    public NethereumRpc(Uri rpcUrl, TimeSpan requestTimeout)
    {
        _http = new HttpClient { Timeout = requestTimeout };
        Web3 = new Web3(new RpcClient(rpcUrl, _http));
    }

    /// <inheritdoc />
    public IWeb3 Web3 { get; }

    /// <inheritdoc />
    public async Task<long> GetChainIdAsync(CancellationToken cancellationToken = default) =>
        (long)(await Web3.Eth.ChainId.SendRequestAsync().WaitAsync(cancellationToken)).Value;

    /// <inheritdoc />
    public async Task<long> GetBlockNumberAsync(CancellationToken cancellationToken = default) =>
        (long)(await Web3.Eth.Blocks.GetBlockNumber.SendRequestAsync().WaitAsync(cancellationToken)).Value;

    /// <inheritdoc />
    public async Task<EthereumBlock?> GetBlockAsync(long? number, CancellationToken cancellationToken = default)
    {
        var block = number is { } n
            ? await Web3.Eth.Blocks.GetBlockWithTransactionsHashesByNumber.SendRequestAsync(new HexBigInteger(n)).WaitAsync(cancellationToken)
            : await Web3.Eth.Blocks.GetBlockWithTransactionsHashesByNumber.SendRequestAsync(BlockParameter.CreateLatest()).WaitAsync(cancellationToken);
        return block is null
            ? null
            : new EthereumBlock((long)block.Number.Value, block.BlockHash, block.BaseFeePerGas?.Value ?? BigInteger.Zero, (long)block.GasLimit.Value);
    }

    /// <inheritdoc />
    public async Task<long> GetTransactionCountAsync(string address, bool pending, CancellationToken cancellationToken = default) =>
        (long)(await Web3.Eth.Transactions.GetTransactionCount.SendRequestAsync(address, pending ? BlockParameter.CreatePending() : BlockParameter.CreateLatest()).WaitAsync(cancellationToken)).Value;

    /// <inheritdoc />
    public Task<TransactionReceipt?> GetTransactionReceiptAsync(string transactionHash, CancellationToken cancellationToken = default) =>
        Web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(transactionHash).WaitAsync(cancellationToken)!;

    /// <inheritdoc />
    public Task<string> SendRawTransactionAsync(string signedTransaction, CancellationToken cancellationToken = default) =>
        Web3.Eth.Transactions.SendRawTransaction.SendRequestAsync(signedTransaction).WaitAsync(cancellationToken);

    /// <inheritdoc />
    public async Task<long> EstimateGasAsync(string from, string? to, string data, CancellationToken cancellationToken = default) =>
        (long)(await Web3.Eth.Transactions.EstimateGas.SendRequestAsync(new CallInput { From = from, To = to, Data = data }).WaitAsync(cancellationToken)).Value;

    /// <inheritdoc />
    public Task<string> GetCodeAsync(string address, CancellationToken cancellationToken = default) =>
        Web3.Eth.GetCode.SendRequestAsync(address).WaitAsync(cancellationToken);

    /// <inheritdoc />
    public async Task<BigInteger> GetGasPriceAsync(CancellationToken cancellationToken = default) =>
        (await Web3.Eth.GasPrice.SendRequestAsync().WaitAsync(cancellationToken)).Value;

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    /// <summary>True for a failure to reach the node or get an answer in time (as opposed to the node refusing a request).</summary>
    public static bool IsUnreachable(Exception exception) =>
        exception is RpcClientUnknownException or RpcClientTimeoutException or HttpRequestException or SocketException or TimeoutException or TaskCanceledException or IOException
        || (exception.InnerException is { } inner && IsUnreachable(inner));
}
