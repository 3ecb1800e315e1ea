using System.Numerics;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Web3;
using OpenMavn.Ledger.Ethereum.Contract;

namespace OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

/// <summary>One record of a batch as the chain holds it: what was asked (decoded from the calldata) and the result.</summary>
internal sealed record ChainRecord(string TransactionHash, long Block, ulong BatchId, Guid CampaignId, BatchRecord Record, RecordResult Result);

/// <summary>
/// Reads what a ledger contract applied straight from the chain, with its own Web3 client: every transaction that
/// emitted <c>BatchApplied</c>, its calldata decoded with <see cref="BatchCodec"/>, and the per-record results.
/// </summary>
internal static class ChainReadBack
{
    private static readonly string RecordSelector = "0x" + Nethereum.Util.Sha3Keccack.Current.CalculateHash("record(uint64,bytes)")[..8];

    public static async Task<List<ChainRecord>> RecordsAsync(string rpcUrl, string contractAddress)
    {
        var web3 = new Web3(rpcUrl);
        var logs = await web3.Eth.Filters.GetLogs.SendRequestAsync(new NewFilterInput
        {
            Address = [contractAddress],
            FromBlock = BlockParameter.CreateEarliest(),
            ToBlock = BlockParameter.CreateLatest(),
        });
        var contract = new VoucherLedgerContract(web3, contractAddress);
        var records = new List<ChainRecord>();
        foreach (var hash in logs.OrderBy(l => l.BlockNumber.Value).ThenBy(l => l.LogIndex.Value).Select(l => l.TransactionHash).Distinct())
        {
            var tx = await web3.Eth.Transactions.GetTransactionByHash.SendRequestAsync(hash);
            if (!string.Equals(tx.To, contractAddress, StringComparison.OrdinalIgnoreCase) || !tx.Input.StartsWith(RecordSelector, StringComparison.OrdinalIgnoreCase))
            {
                continue; // the deployment or setOperator (they log OperatorChanged)
            }

            var receipt = await web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(hash);
            var (batchId, batch) = DecodeRecordCall(tx.Input.HexToByteArray());
            var results = await contract.ReadResultsAsync(receipt, batchId);
            Assert.NotNull(results);
            var i = 0;
            foreach (var group in BatchCodec.Decode(batch))
            {
                foreach (var record in group.Records)
                {
                    records.Add(new ChainRecord(hash, (long)receipt.BlockNumber.Value, batchId, group.CampaignId, record, results![i++]));
                }
            }

            Assert.Equal(results!.Count, i);
        }

        return records;
    }

    /// <summary>Decodes <c>record(uint64 batchId, bytes batch)</c> calldata by hand (selector, two head words, the bytes).</summary>
    public static (ulong BatchId, byte[] Batch) DecodeRecordCall(byte[] input)
    {
        var args = input.AsSpan(4);
        var batchId = (ulong)new BigInteger(args[..32], isUnsigned: true, isBigEndian: true);
        var offset = (int)new BigInteger(args.Slice(32, 32), isUnsigned: true, isBigEndian: true);
        var length = (int)new BigInteger(args.Slice(offset, 32), isUnsigned: true, isBigEndian: true);
        return (batchId, args.Slice(offset + 32, length).ToArray());
    }

    public static async Task<long> BlockNumberAsync(string rpcUrl) =>
        (long)(await new Web3(rpcUrl).Eth.Blocks.GetBlockNumber.SendRequestAsync()).Value;

    public static HexBigInteger Hex(long value) => new(value);
}
