using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nethereum.Web3;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Persistence;
using OpenMavn.Ledger.Ethereum;
using OpenMavn.Ledger.Ethereum.Contract;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Bench.Ledger;

/// <summary>
/// <c>--throughput [--vouchers N]</c>: N issue events (5,000 unless N ≥ 1,000 is given) queued through
/// <see cref="IVoucherLedger.RecordAsync"/> one call per event, as the outbox makes them; then the ledger engine's
/// worker runs (the contract deployed by the engine itself, as in Development) until every event is Confirmed with
/// 1 confirmation on a fresh anvil with automine. Reports vouchers mirrored per second, from the first worker round
/// after queueing to the last confirmation, checked against the contract's own issued counter.
/// </summary>
internal static class Throughput
{
    public static async Task<string> RunAsync(LedgerBenchOptions options)
    {
        var started = DateTime.UtcNow;
        var load = Machine.LoadAverage();
        var vouchers = options.Vouchers >= 1_000 ? options.Vouchers : 5_000;
        await using var anvil = await Anvil.StartAsync();
        Console.Error.WriteLine($"throughput: queueing {vouchers} issue events, then mirroring them…");
        var table = await MeasureAsync(anvil.RpcUrl, Anvil.PrivateKeys[0], Anvil.ChainId, vouchers);
        return string.Join('\n',
            "## Ledger (throughput)",
            "",
            $"Measured {started:yyyy-MM-dd HH:mm} UTC on {Machine.Describe()}, load average before the run {load}; anvil {Machine.AnvilVersion()} with automine.",
            "Command: `bench/run-ledger.sh --throughput` (add `--vouchers N` for another count). Engine settings: BatchSize 200, MaxInFlightTransactions 4, Confirmations 1, SQLite.",
            "",
            table,
            "");
    }

    private static async Task<string> MeasureAsync(string rpcUrl, string operatorKey, long chainId, int vouchers)
    {
        var directory = Path.Combine(Path.GetTempPath(), "openmavn-bench-ledger", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var services = new ServiceCollection();
            services.AddSingleton<IHostEnvironment>(new DevelopmentEnvironment());
            services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
            services.AddOpenMavn(o => o.Jobs.Enabled = false)
                .AddSqliteStorage($"Data Source={Path.Combine(directory, "openmavn.db")}")
                .AddEthereumLedger(o =>
                {
                    o.RpcUrl = rpcUrl;
                    o.ChainId = chainId;
                    o.OperatorPrivateKey = operatorKey;
                    o.Confirmations = 1;
                    o.BatchSize = 200;
                    o.MaxInFlightTransactions = 4;
                });
            await using var provider = services.BuildServiceProvider();
            await provider.MigrateOpenMavnDatabaseAsync();
            var ledger = provider.GetRequiredService<IVoucherLedger>();
            var worker = provider.GetRequiredService<EthereumLedgerWorker>();
            var locator = provider.GetRequiredService<LedgerContractLocator>();

            // The engine deploys the contract itself (Development), as a fresh host would.
            VoucherLedgerContract? deployed;
            while ((deployed = await locator.GetContractAsync()) is null)
            {
                var round = await worker.RunOnceAsync();
                if (!round.ChainReachable)
                {
                    throw new InvalidOperationException("The node is unreachable.");
                }
            }

            var contract = deployed.Address;

            var campaign = Guid.NewGuid();
            var queueClock = Stopwatch.StartNew();
            for (var i = 0; i < vouchers; i++)
            {
                await ledger.RecordAsync([new LedgerEvent(Guid.NewGuid(), LedgerEventKind.Issued, Guid.NewGuid(), campaign, Guid.Empty, vouchers, Guid.NewGuid(), null, 5000, 5000, "CHF", DateTimeOffset.UtcNow)]);
            }

            queueClock.Stop();
            var clock = Stopwatch.StartNew();
            var rounds = 0;
            long confirmed;
            do
            {
                var round = await worker.RunOnceAsync();
                rounds++;
                if (!round.ChainReachable || round.Failed > 0)
                {
                    throw new InvalidOperationException($"Round {rounds} went wrong: {round}");
                }

                await using var scope = provider.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
                confirmed = await db.ChainLedgerEvents.CountAsync(e => e.Status == ChainEventStatus.Confirmed);
            }
            while (confirmed < vouchers);

            clock.Stop();
            long transactions, gas;
            await using (var scope = provider.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
                transactions = await db.ChainLedgerTransactions.CountAsync(t => t.Kind == ChainTransactionKind.Batch);
                gas = (await db.ChainLedgerTransactions.Where(t => t.Kind == ChainTransactionKind.Batch).Select(t => t.GasUsed).ToListAsync()).Sum(g => g ?? 0);
            }

            var onChain = await new VoucherLedgerContract(new Web3(rpcUrl), contract).GetCampaignAsync(campaign);
            if (onChain.Issued != vouchers)
            {
                throw new InvalidOperationException($"The chain shows {onChain.Issued} issued, expected {vouchers}.");
            }

            var perSecond = vouchers / clock.Elapsed.TotalSeconds;
            return string.Join('\n',
                "| vouchers | batch transactions | worker rounds | queueing (RecordAsync) | mirroring to 1 confirmation | vouchers/s | gas per voucher |",
                "|---:|---:|---:|---:|---:|---:|---:|",
                string.Create(CultureInfo.InvariantCulture, $"| {vouchers:N0} | {transactions} | {rounds} | {queueClock.Elapsed.TotalSeconds:0.0} s | {clock.Elapsed.TotalSeconds:0.0} s | **{perSecond:0}** | {gas / vouchers:N0} |"));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private sealed class DevelopmentEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = Environments.Development;

        public string ApplicationName { get; set; } = "OpenMavn.Bench.Ledger";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
