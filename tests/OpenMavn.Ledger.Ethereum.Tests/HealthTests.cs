using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenMavn.Ledger.Ethereum.Tests.Infrastructure;

namespace OpenMavn.Ledger.Ethereum.Tests;

/// <summary>The health check reports degraded (never unhealthy) while the mirror cannot keep up, and the wrong chain is refused.</summary>
public sealed class HealthTests
{
    [Fact]
    public async Task The_health_check_is_degraded_while_the_node_is_down_and_healthy_once_it_caught_up()
    {
        var port = Chain.FreePort();
        var rpcUrl = $"http://127.0.0.1:{port}";
        await using var host = await LedgerHost.StartAsync(rpcUrl, o => o.QueueDelayDegradedAfter = TimeSpan.FromMinutes(5), configureServices: s => s.AddHealthChecks());
        await Events.RecordAsync(host.Ledger, new Events().IssueAndRedeem(2));
        await host.Worker.RunOnceAsync();

        var down = await CheckAsync(host);
        Assert.Equal(HealthStatus.Degraded, down.Status);
        Assert.Contains("unreachable", down.Description, StringComparison.Ordinal);

        await using var anvil = await Anvil.StartAsync(port: port);
        await host.SettleAsync(rpcUrl);
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(host)).Status);

        // A queue that waits too long (here: the clock moves on with an event not yet sent) degrades it too.
        await Events.RecordAsync(host.Ledger, new Events().IssueAndRedeem(1));
        host.Time.Advance(TimeSpan.FromMinutes(6));
        var late = await CheckAsync(host);
        Assert.Equal(HealthStatus.Degraded, late.Status);
        Assert.Contains("oldest unsent", late.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_on_another_chain_gets_nothing_and_the_refusal_is_logged()
    {
        await using var anvil = await Anvil.StartAsync();
        await using var host = await LedgerHost.StartAsync(anvil.RpcUrl, o => o.ChainId = 1, configureServices: s => s.AddHealthChecks());
        await Events.RecordAsync(host.Ledger, new Events().IssueAndRedeem(1));

        var round = await host.Worker.RunOnceAsync();

        Assert.Equal("wrong chain", round.Waiting);
        Assert.Equal(0, round.Sent);
        Assert.Equal(0, (int)(await new Nethereum.Web3.Web3(anvil.RpcUrl).Eth.Transactions.GetTransactionCount.SendRequestAsync(new Nethereum.Web3.Accounts.Account(Anvil.PrivateKeys[0]).Address)).Value);
        Assert.Contains(host.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("ChainId", StringComparison.Ordinal));
        Assert.Equal(HealthStatus.Degraded, (await CheckAsync(host)).Status);
    }

    private static async Task<HealthReportEntry> CheckAsync(LedgerHost host)
    {
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return report.Entries["ledger-ethereum"];
    }
}
