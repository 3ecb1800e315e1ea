using System.Globalization;
using System.Numerics;
using Nethereum.Contracts;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Util;
using Nethereum.Web3;

namespace OpenMavn.Ledger.Ethereum.Contract;

/// <summary>
/// The deployed voucher ledger contract: call data for <c>record</c>, decoding of <c>BatchApplied</c> from receipts,
/// and the read views (campaign, voucher, runs of vouchers, operator).
/// </summary>
public sealed class VoucherLedgerContract
{
    private static readonly string BatchAppliedTopic = "0x" + Sha3Keccack.Current.CalculateHash("BatchApplied(uint64,bytes)");

    private readonly Nethereum.Contracts.Contract _contract;

    /// <summary>Binds to the contract at <paramref name="address"/>.</summary>
    /// <param name="web3">The client (its account signs transactions sent through it).</param>
    /// <param name="address">The contract address.</param>
    public VoucherLedgerContract(IWeb3 web3, string address)
    {
        ArgumentNullException.ThrowIfNull(web3);
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        Address = address;
        _contract = web3.Eth.GetContract(VoucherLedgerArtifact.Abi, address);
    }

    /// <summary>The contract address.</summary>
    public string Address { get; }

    /// <summary>
    /// Deploys the contract from the committed artifact with <paramref name="operatorAddress"/> as operator, sent from
    /// the client's account (or from the operator address when the client has none), and waits for the receipt.
    /// </summary>
    /// <param name="web3">The client.</param>
    /// <param name="operatorAddress">The platform operator, the only account allowed to write.</param>
    /// <param name="cancellationToken">Cancels waiting for the receipt.</param>
    /// <returns>The contract address.</returns>
    /// <exception cref="InvalidOperationException">The deployment failed on chain.</exception>
    public static async Task<string> DeployAsync(IWeb3 web3, string operatorAddress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(web3);
        ArgumentException.ThrowIfNullOrWhiteSpace(operatorAddress);
        var from = web3.TransactionManager?.Account?.Address ?? operatorAddress;
        // Estimate explicitly: without a gas limit the account's transaction manager sends a default that does not
        // cover the deployment, and the node drops the transaction while the receipt poll waits for ever.
        var gas = await web3.Eth.DeployContract
            .EstimateGasAsync(VoucherLedgerArtifact.Abi, VoucherLedgerArtifact.Bytecode, from, operatorAddress)
            .WaitAsync(cancellationToken);
        var receipt = await web3.Eth.DeployContract.SendRequestAndWaitForReceiptAsync(
            VoucherLedgerArtifact.Abi,
            VoucherLedgerArtifact.Bytecode,
            from,
            new HexBigInteger(gas.Value + (gas.Value / 5)),
            cancellationToken,
            operatorAddress);
        if (receipt.Status?.Value != BigInteger.One || string.IsNullOrEmpty(receipt.ContractAddress))
        {
            throw new InvalidOperationException($"Deploying the voucher ledger failed (transaction {receipt.TransactionHash}).");
        }

        return receipt.ContractAddress;
    }

    /// <summary>The transaction input (to, from, call data) of <c>record(batchId, batch)</c>; gas, fees and nonce are left to the sender.</summary>
    /// <param name="from">The operator address that sends it.</param>
    /// <param name="batchId">Identifies the batch in <c>BatchApplied</c>.</param>
    /// <param name="batch">The batch from <see cref="BatchCodec.Encode"/>.</param>
    /// <returns>The transaction input.</returns>
    public TransactionInput CreateRecordTransaction(string from, ulong batchId, byte[] batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return _contract.GetFunction("record").CreateTransactionInput(from, new BigInteger(batchId), batch);
    }

    /// <summary>
    /// The per-record results of batch <paramref name="batchId"/> from the <c>BatchApplied</c> log this contract wrote
    /// in <paramref name="receipt"/>; null when there is none (a reverted or unrelated transaction).
    /// </summary>
    /// <param name="receipt">The transaction receipt.</param>
    /// <param name="batchId">The batch id sent with <c>record</c>.</param>
    /// <param name="cancellationToken">Observed before decoding (the receipt is already at hand; nothing is fetched).</param>
    /// <returns>One result per record in batch order, or null.</returns>
    public Task<IReadOnlyList<RecordResult>?> ReadResultsAsync(TransactionReceipt receipt, ulong batchId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        cancellationToken.ThrowIfCancellationRequested();
        var batchTopic = "0x" + batchId.ToString("x64", CultureInfo.InvariantCulture);
        foreach (var log in receipt.Logs ?? [])
        {
            if (!string.Equals(log.Address, Address, StringComparison.OrdinalIgnoreCase)
                || log.Topics is not { Length: 2 }
                || !string.Equals(log.Topics[0]?.ToString(), BatchAppliedTopic, StringComparison.OrdinalIgnoreCase)
                || !string.Equals(log.Topics[1]?.ToString(), batchTopic, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            return Task.FromResult<IReadOnlyList<RecordResult>?>(DecodeResults(log.Data.HexToByteArray()));
        }

        return Task.FromResult<IReadOnlyList<RecordResult>?>(null);
    }

    /// <summary>Reads a campaign's counters.</summary>
    /// <param name="campaignId">The campaign.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The counters (all zero when the campaign is not registered).</returns>
    public async Task<OnChainCampaign> GetCampaignAsync(Guid campaignId, CancellationToken cancellationToken = default)
    {
        var outputs = await _contract.GetFunction("campaign")
            .CallDecodingToDefaultAsync(BatchCodec.ToBytes16(campaignId))
            .WaitAsync(cancellationToken);
        return new OnChainCampaign(
            (uint)ToBigInteger(outputs[0].Result),
            (uint)ToBigInteger(outputs[1].Result),
            (uint)ToBigInteger(outputs[2].Result),
            (uint)ToBigInteger(outputs[3].Result));
    }

    /// <summary>Reads one voucher.</summary>
    /// <param name="campaignId">The campaign.</param>
    /// <param name="serial">The voucher's serial in its campaign.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The voucher (status None when never issued).</returns>
    public async Task<OnChainVoucher> GetVoucherAsync(Guid campaignId, uint serial, CancellationToken cancellationToken = default)
    {
        var outputs = await _contract.GetFunction("voucher")
            .CallDecodingToDefaultAsync(BatchCodec.ToBytes16(campaignId), new BigInteger(serial))
            .WaitAsync(cancellationToken);
        return new OnChainVoucher(
            (ulong)ToBigInteger(outputs[0].Result),
            (uint)ToBigInteger(outputs[1].Result),
            (ushort)ToBigInteger(outputs[2].Result),
            (OnChainStatus)(byte)ToBigInteger(outputs[3].Result));
    }

    /// <summary>Reads a run of vouchers in one call (for reconciliation).</summary>
    /// <param name="campaignId">The campaign.</param>
    /// <param name="fromSerial">The first serial.</param>
    /// <param name="count">How many.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The vouchers, serial <paramref name="fromSerial"/> first.</returns>
    public async Task<IReadOnlyList<OnChainVoucher>> GetVouchersAsync(Guid campaignId, uint fromSerial, uint count, CancellationToken cancellationToken = default)
    {
        var records = await _contract.GetFunction("vouchers")
            .CallAsync<List<BigInteger>>(BatchCodec.ToBytes16(campaignId), new BigInteger(fromSerial), new BigInteger(count))
            .WaitAsync(cancellationToken);
        return records.Select(OnChainVoucher.FromRecord).ToList();
    }

    /// <summary>Reads the operator address.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The operator address.</returns>
    public Task<string> GetOperatorAsync(CancellationToken cancellationToken = default) =>
        _contract.GetFunction("operator").CallAsync<string>().WaitAsync(cancellationToken);

    private static RecordResult[] DecodeResults(byte[] data)
    {
        // ABI encoding of a single `bytes`: offset (32), length (32), the bytes padded to 32.
        if (data.Length < 64)
        {
            throw new FormatException("BatchApplied data is shorter than an ABI-encoded bytes value.");
        }

        var offset = (int)new BigInteger(data.AsSpan(0, 32), isUnsigned: true, isBigEndian: true);
        var length = (int)new BigInteger(data.AsSpan(offset, 32), isUnsigned: true, isBigEndian: true);
        var results = new RecordResult[length];
        for (var i = 0; i < length; i++)
        {
            results[i] = (RecordResult)data[offset + 32 + i];
        }

        return results;
    }

    private static BigInteger ToBigInteger(object value) => value switch
    {
        BigInteger big => big,
        IConvertible convertible => new BigInteger(convertible.ToDecimal(CultureInfo.InvariantCulture)),
        _ => throw new FormatException($"Unexpected ABI output type {value?.GetType().Name ?? "null"}."),
    };
}
