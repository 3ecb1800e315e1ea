using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Persistence;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Ledger.Ethereum.Tests;

/// <summary>In a real host with jobs on, configured from configuration: the background sender deploys, sends and confirms by itself.</summary>
public sealed class HostedTests
{
    [Fact]
    public async Task A_development_host_deploys_the_contract_and_mirrors_in_the_background_and_a_restart_reuses_the_contract()
    {
        await using var anvil = await Anvil.StartAsync();
        var directory = Path.Combine(Path.GetTempPath(), "openmavn-ethereum-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var settings = new Dictionary<string, string?>
        {
            ["OpenMavn:Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "openmavn.db")}",
            ["OpenMavn:Ledger:Ethereum:RpcUrl"] = anvil.RpcUrl,
            ["OpenMavn:Ledger:Ethereum:ChainId"] = "31337",
            ["OpenMavn:Ledger:Ethereum:OperatorPrivateKey"] = Anvil.PrivateKeys[0],
            ["OpenMavn:Ledger:Ethereum:Confirmations"] = "0",
            ["OpenMavn:Ledger:Ethereum:PollInterval"] = "00:00:00.100",
        };

        async Task<(string Contract, int Confirmed)> RunHostAsync(IReadOnlyList<LedgerEvent> events)
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Development });
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Services.AddOpenMavn(builder.Configuration.GetSection("OpenMavn")).AddSqliteStorage().AddEthereumLedger();
            using var host = builder.Build();
            await host.StartAsync();
            try
            {
                Assert.IsType<EthereumVoucherLedger>(host.Services.GetRequiredService<IVoucherLedger>());
                await Events.RecordAsync(host.Services.GetRequiredService<IVoucherLedger>(), events);
                var ids = events.Select(e => e.EventId).ToList();
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (true)
                {
                    await using var scope = host.Services.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
                    var confirmed = await db.ChainLedgerEvents.CountAsync(e => ids.Contains(e.EventId) && e.Status == ChainEventStatus.Confirmed);
                    if (confirmed == events.Count)
                    {
                        var contract = await host.Services.GetRequiredService<LedgerContractLocator>().GetContractAsync();
                        return (contract!.Address, confirmed);
                    }

                    Assert.True(DateTime.UtcNow < deadline, $"{confirmed} of {events.Count} confirmed after 30 s");
                    await Task.Delay(100);
                }
            }
            finally
            {
                await host.StopAsync();
            }
        }

        try
        {
            var events = new Events();
            var first = await RunHostAsync(events.IssueAndRedeem(5));
            var second = await RunHostAsync([.. events.IssueAndRedeem(5)]);

            Assert.Equal(10, first.Confirmed);
            Assert.Equal(10, second.Confirmed);
            Assert.Equal(first.Contract, second.Contract);
            var deploys = await QueryDeploysAsync(directory);
            Assert.Equal(1, deploys);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<int> QueryDeploysAsync(string directory)
    {
        var options = new DbContextOptionsBuilder<OpenMavnDbContext>().UseSqlite($"Data Source={Path.Combine(directory, "openmavn.db")}").Options;
        await using var db = new OpenMavnDbContext(options);
        return await db.ChainLedgerTransactions.CountAsync(t => t.Kind == ChainTransactionKind.Deploy);
    }
}
