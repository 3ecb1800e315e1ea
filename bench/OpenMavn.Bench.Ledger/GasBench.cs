using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Util;
using Nethereum.Web3;
using Nethereum.Web3.Accounts;
using OpenMavn.Ledger.Ethereum.Contract;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Bench.Ledger;

/// <summary>
/// Gas per voucher, from receipts' gasUsed, on one fresh anvil: the OpenZeppelin ERC-1155 baseline one operation per
/// transaction (mint, operator transfer, burn), then the voucher ledger one record per transaction and in batches.
/// </summary>
internal static class GasBench
{
    private const uint FaceValue = 5_000;
    private static readonly HexBigInteger SingleGas = new(new BigInteger(500_000));
    private static readonly HexBigInteger Zero = new(BigInteger.Zero);

    public static async Task<string> RunAsync(LedgerBenchOptions options)
    {
        var started = DateTime.UtcNow;
        var load = Machine.LoadAverage();
        await using var anvil = await Anvil.StartAsync();
        var account = new Account(Anvil.PrivateKeys[0], Anvil.ChainId);
        var web3 = new Web3(account, anvil.RpcUrl);
        var n = options.Vouchers;

        Console.Error.WriteLine($"baseline ERC-1155: {n} mints, transfers, burns, one per transaction…");
        var baseline = await MeasureBaselineAsync(web3, account.Address, n);

        var ledgerAddress = await VoucherLedgerContract.DeployAsync(web3, account.Address);
        var ledger = new VoucherLedgerContract(web3, ledgerAddress);
        var sender = new BatchSender(web3, ledger, account.Address);

        Console.Error.WriteLine($"ledger: {n} issues, transfers, redemptions, one record per transaction…");
        var single = await MeasureSingleAsync(sender, n);

        var batched = new List<Row>();
        foreach (var size in options.BatchSizes)
        {
            var rounds = size >= 500 ? 2 : 3;
            Console.Error.WriteLine($"ledger: batches of {size} ({rounds} batches per operation, {options.Campaigns} campaigns)…");
            batched.Add(await MeasureBatchedAsync(sender, size, rounds, options.Campaigns));
        }

        return Report(options, started, load, baseline, single, batched);
    }

    private static async Task<Row> MeasureBaselineAsync(IWeb3 web3, string owner, int n)
    {
        using var artifact = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(ContractsFolder.Path, "artifacts", "BaselineVouchers1155.json")));
        var abi = artifact.RootElement.GetProperty("abi").GetRawText();
        var bytecode = artifact.RootElement.GetProperty("bytecode").GetString()!;
        var deployed = await web3.Eth.DeployContract.SendRequestAndWaitForReceiptAsync(abi, bytecode, owner, new HexBigInteger(new BigInteger(5_000_000)), Timeouts.Receipt, owner);
        Ensure(deployed, "deploying the baseline");
        var contract = web3.Eth.GetContract(abi, deployed.ContractAddress);
        var mint = contract.GetFunction("mint");
        var transfer = contract.GetFunction("safeTransferFrom");
        var burn = contract.GetFunction("burn");

        var row = new Row("baseline: OpenZeppelin 5.7.0 ERC-1155, 1 operation per transaction");
        for (var i = 0; i < n; i++)
        {
            row.Issue.Add(await SendAsync(web3, mint.CreateTransactionInput(owner, SingleGas, Zero, HolderAddress("a", i), new BigInteger(i + 1), BigInteger.One)), 1);
        }

        for (var i = 0; i < n; i++)
        {
            row.Transfer.Add(await SendAsync(web3, transfer.CreateTransactionInput(owner, SingleGas, Zero, HolderAddress("a", i), HolderAddress("b", i), new BigInteger(i + 1), BigInteger.One, Array.Empty<byte>())), 1);
        }

        for (var i = 0; i < n; i++)
        {
            row.Redeem.Add(await SendAsync(web3, burn.CreateTransactionInput(owner, SingleGas, Zero, HolderAddress("b", i), new BigInteger(i + 1), BigInteger.One)), 1);
        }

        return row;
    }

    private static async Task<Row> MeasureSingleAsync(BatchSender sender, int n)
    {
        var campaign = Guid.NewGuid();
        var row = new Row("ledger: 1 record per transaction");
        for (var i = 0u; i < n; i++)
        {
            row.Issue.Add(await sender.SendAsync([new BatchGroup(campaign, 1_000_000, FaceValue, [Issue(campaign, i)])]), 1);
        }

        for (var i = 0u; i < n; i++)
        {
            row.Transfer.Add(await sender.SendAsync([new BatchGroup(campaign, 1_000_000, FaceValue, [Transfer(campaign, i)])]), 1);
        }

        for (var i = 0u; i < n; i++)
        {
            row.Redeem.Add(await sender.SendAsync([new BatchGroup(campaign, 1_000_000, FaceValue, [Redeem(campaign, i)])]), 1);
        }

        return row;
    }

    /// <summary>
    /// Issue batches: consecutive serials of a few campaigns (neighbours share a slot, as in production). Transfer and
    /// redeem batches: the vouchers issued before, in a shuffled order, so each record mostly meets a cold slot.
    /// </summary>
    private static async Task<Row> MeasureBatchedAsync(BatchSender sender, int size, int rounds, int campaignCount)
    {
        var campaigns = Enumerable.Range(0, campaignCount).Select(_ => Guid.NewGuid()).ToArray();
        var perCampaign = size / campaignCount;
        var row = new Row($"ledger: batches of {size} records ({campaignCount} campaigns per batch)");
        var issued = new List<(Guid Campaign, uint Serial)>();
        for (var round = 0; round < rounds; round++)
        {
            var groups = new List<BatchGroup>();
            for (var c = 0; c < campaignCount; c++)
            {
                var count = c == campaignCount - 1 ? size - (perCampaign * (campaignCount - 1)) : perCampaign;
                var first = (uint)issued.Count(v => v.Campaign == campaigns[c]);
                var records = Enumerable.Range(0, count).Select(k => Issue(campaigns[c], first + (uint)k)).ToArray();
                groups.Add(new BatchGroup(campaigns[c], 1_000_000, FaceValue, records));
                issued.AddRange(records.Select(r => (campaigns[c], r.Serial)));
            }

            row.Issue.Add(await sender.SendAsync(groups), size);
        }

        var random = new Random(size);
        foreach (var (operation, target) in new (Func<Guid, uint, BatchRecord>, Measure)[] { (Transfer, row.Transfer), (Redeem, row.Redeem) })
        {
            var order = issued.ToArray();
            random.Shuffle(order);
            foreach (var chunk in order.Chunk(size))
            {
                var groups = chunk
                    .GroupBy(v => v.Campaign)
                    .Select(g => new BatchGroup(g.Key, 1_000_000, FaceValue, g.Select(v => operation(v.Campaign, v.Serial)).ToArray()))
                    .ToArray();
                target.Add(await sender.SendAsync(groups), chunk.Length);
            }
        }

        return row;
    }

    private static BatchRecord Issue(Guid campaign, uint serial) =>
        new(LedgerOp.Issue, serial, 1, VoucherId: Guid.NewGuid(), Holder: Holder(campaign, serial, "first"));

    private static BatchRecord Transfer(Guid campaign, uint serial) =>
        new(LedgerOp.Transfer, serial, 2, From: Holder(campaign, serial, "first"), To: Holder(campaign, serial, "second"));

    private static BatchRecord Redeem(Guid campaign, uint serial) => new(LedgerOp.Redeem, serial, 3, Amount: FaceValue);

    /// <summary>A custodial account per voucher and owner, derived so transfers know the current holder without a call.</summary>
    private static ulong Holder(Guid campaign, uint serial, string which) =>
        CustodialAccount.For(new Guid(Sha3Keccack.Current.CalculateHash(Encoding.UTF8.GetBytes($"{campaign}/{serial}/{which}"))[..16]));

    private static string HolderAddress(string prefix, int i) =>
        "0x" + Sha3Keccack.Current.CalculateHash($"openmavn-bench-{prefix}-{i}")[..40];

    private static async Task<long> SendAsync(IWeb3 web3, TransactionInput input)
    {
        var receipt = await web3.TransactionManager.SendTransactionAndWaitForReceiptAsync(input, Timeouts.Receipt);
        Ensure(receipt, input.Data[..10]);
        return (long)receipt.GasUsed.Value;
    }

    internal static void Ensure(TransactionReceipt receipt, string what)
    {
        if (receipt.Status?.Value != BigInteger.One)
        {
            throw new InvalidOperationException($"{what}: transaction {receipt.TransactionHash} failed.");
        }
    }

    private static string Report(LedgerBenchOptions options, DateTime started, string load, Row baseline, Row single, IReadOnlyList<Row> batched)
    {
        var target = baseline.Lifecycle * 0.25;
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Ledger gas run of {started:yyyy-MM-dd HH:mm} UTC: gasUsed from receipts on a fresh anvil {Machine.AnvilVersion()} (chain {Anvil.ChainId}, 127.0.0.1), contract {VoucherLedgerArtifact.Compiler}; one-per-transaction rows average {options.Vouchers} vouchers each.");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Machine.Describe()}. Load average (1/5/15 min) before the run {load}. Gas does not depend on the machine.");
        text.AppendLine();
        text.AppendLine("| scenario | transactions | issue gas/voucher | transfer gas/voucher | redeem gas/voucher | lifecycle gas/voucher | lifecycle vs baseline | ≤ 25 % target |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var row in new[] { baseline, single }.Concat(batched))
        {
            var ratio = row.Lifecycle / baseline.Lifecycle;
            var verdict = ReferenceEquals(row, baseline) ? "—" : ratio <= 0.25 ? "**met**" : "not met";
            text.AppendLine(CultureInfo.InvariantCulture, $"| {row.Name} | {row.Transactions:N0} | {row.Issue.PerVoucher:N0} | {row.Transfer.PerVoucher:N0} | {row.Redeem.PerVoucher:N0} | {row.Lifecycle:N0} | {ratio:P1} | {verdict} |");
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Target: lifecycle (issue + transfer + redeem) ≤ 25 % of the baseline's = ≤ {target:N0} gas per voucher.");
        text.AppendLine("Batched rows: gas per voucher = the batch transaction's gasUsed / its records (21,000 base cost, calldata and the one BatchApplied log included); issue batches hold consecutive serials of each campaign, transfer and redeem batches the vouchers of earlier batches in a shuffled order (cold slots). Redeem takes the whole face value (the voucher ends Redeemed, like the baseline's burn).");
        return text.ToString();
    }

    private sealed class Measure
    {
        public long Gas { get; private set; }

        public long Vouchers { get; private set; }

        public int Transactions { get; private set; }

        public double PerVoucher => Vouchers == 0 ? double.NaN : (double)Gas / Vouchers;

        public void Add(long gas, int vouchers)
        {
            Gas += gas;
            Vouchers += vouchers;
            Transactions++;
        }
    }

    private sealed class Row(string name)
    {
        public string Name { get; } = name;

        public Measure Issue { get; } = new();

        public Measure Transfer { get; } = new();

        public Measure Redeem { get; } = new();

        public double Lifecycle => Issue.PerVoucher + Transfer.PerVoucher + Redeem.PerVoucher;

        public int Transactions => Issue.Transactions + Transfer.Transactions + Redeem.Transactions;
    }
}
