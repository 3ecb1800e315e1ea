using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Ledger.Ethereum;

/// <summary>What the sender last saw of the chain (read by the health check).</summary>
public sealed class EthereumLedgerHealth
{
    private readonly Lock _lock = new();
    private string? _unreachable;
    private string? _problem;

    /// <summary>Why the node could not be reached in the last round, or null.</summary>
    public string? Unreachability
    {
        get
        {
            lock (_lock)
            {
                return _unreachable;
            }
        }
    }

    /// <summary>Why the last round could not send (wrong chain, no contract, fees above the cap), or null.</summary>
    public string? CurrentProblem
    {
        get
        {
            lock (_lock)
            {
                return _problem;
            }
        }
    }

    internal void Reached()
    {
        lock (_lock)
        {
            _unreachable = null;
        }
    }

    internal void Unreachable(string reason)
    {
        lock (_lock)
        {
            _unreachable = reason;
        }
    }

    internal void Problem(string? problem)
    {
        lock (_lock)
        {
            _problem = problem;
        }
    }
}

/// <summary>
/// Degraded (never unhealthy: sales go on) when the chain is unreachable, the sender cannot send, or the oldest event
/// still waiting to be sent is older than <see cref="EthereumLedgerOptions.QueueDelayDegradedAfter"/>.
/// </summary>
internal sealed class EthereumLedgerHealthCheck(EthereumLedgerHealth health, IServiceScopeFactory scopes, IOptions<EthereumLedgerOptions> options, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (health.Unreachability is { } unreachable)
        {
            return HealthCheckResult.Degraded("The Ethereum node is unreachable: " + unreachable);
        }

        if (health.CurrentProblem is { } problem)
        {
            return HealthCheckResult.Degraded("The Ethereum ledger cannot send: " + problem);
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        var oldest = await db.ChainLedgerEvents.AsNoTracking()
            .Where(e => e.Ledger == EthereumVoucherLedger.LedgerName && e.Status == ChainEventStatus.Queued)
            .OrderBy(e => e.Id)
            .Select(e => (DateTimeOffset?)e.QueuedAt)
            .FirstOrDefaultAsync(cancellationToken);
        var delay = oldest is { } queued ? time.GetUtcNow() - queued : TimeSpan.Zero;
        return delay > options.Value.QueueDelayDegradedAfter
            ? HealthCheckResult.Degraded($"The oldest unsent ledger event has waited {delay.TotalMinutes:0} minutes.")
            : HealthCheckResult.Healthy();
    }
}
