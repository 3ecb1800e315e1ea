using System.Numerics;
using Nethereum.Hex.HexTypes;
using Nethereum.Web3;
using OpenMavn.Ledger.Ethereum.Contract;

namespace OpenMavn.Bench.Ledger;

/// <summary>Sends batches to the ledger as the operator and returns gasUsed, after checking every record applied.</summary>
internal sealed class BatchSender(IWeb3 web3, VoucherLedgerContract ledger, string operatorAddress)
{
    private static readonly HexBigInteger Gas = new(new BigInteger(15_000_000));
    private ulong _batchId;

    public async Task<long> SendAsync(IReadOnlyList<BatchGroup> groups)
    {
        var batchId = ++_batchId;
        var input = ledger.CreateRecordTransaction(operatorAddress, batchId, BatchCodec.Encode(groups));
        input.Gas = Gas;
        var receipt = await web3.TransactionManager.SendTransactionAndWaitForReceiptAsync(input, Timeouts.Receipt);
        GasBench.Ensure(receipt, $"batch {batchId}");
        var results = await ledger.ReadResultsAsync(receipt, batchId)
            ?? throw new InvalidOperationException($"batch {batchId}: no BatchApplied in the receipt.");
        var records = groups.Sum(g => g.Records.Count);
        if (results.Count != records || results.Any(r => r != RecordResult.Applied))
        {
            throw new InvalidOperationException($"batch {batchId}: expected {records} applied records, got [{string.Join(',', results)}].");
        }

        return (long)receipt.GasUsed.Value;
    }
}

/// <summary>A dropped transaction makes Nethereum's receipt poll wait for ever; the bench gives up instead.</summary>
internal static class Timeouts
{
    public static CancellationToken Receipt => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;
}
