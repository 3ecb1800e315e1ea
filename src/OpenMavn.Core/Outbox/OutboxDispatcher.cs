using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenMavn.Core.Diagnostics;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Outbox;

/// <summary>Delivers one type of outbox message. Must be safe to run twice for the same message (at-least-once).</summary>
public interface IOutboxHandler
{
    /// <summary>The <see cref="OutboxMessage.Type"/> handled.</summary>
    string Type { get; }

    /// <summary>
    /// Delivers the message. Throwing schedules a retry with backoff; a non-transient <see cref="ProviderException"/>
    /// fails the message for good (visible to operators).
    /// </summary>
    Task HandleAsync(OutboxMessage message, CancellationToken cancellationToken);
}

/// <summary>
/// Claims due outbox messages under a lease (so several host instances never deliver the same message at the same
/// time), delivers them in order per ordering key, and retries failures with exponential backoff that honours a
/// provider's Retry-After.
/// </summary>
public sealed partial class OutboxDispatcher(
    IServiceScopeFactory scopes,
    TimeProvider time,
    IOptions<OpenMavnOptions> options,
    ILogger<OutboxDispatcher> logger)
{
    private readonly OutboxOptions _options = options.Value.Outbox;

    /// <summary>Claims and delivers one batch; returns how many messages were attempted.</summary>
    public async Task<int> DispatchOnceAsync(CancellationToken cancellationToken = default)
    {
        List<OutboxMessage> claimed;
        var leaseToken = Guid.NewGuid();
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
            var now = time.GetUtcNow();
            var candidates = await db.OutboxMessages.AsNoTracking()
                .Where(m => m.ProcessedAt == null && m.FailedAt == null && m.AvailableAt <= now && (m.LeaseUntil == null || m.LeaseUntil < now))
                .Where(m => m.OrderingKey == null || !db.OutboxMessages.Any(p => p.OrderingKey == m.OrderingKey && p.Id < m.Id && p.ProcessedAt == null && p.FailedAt == null))
                .OrderBy(m => m.Id).Take(_options.BatchSize).Select(m => m.Id).ToListAsync(cancellationToken);
            if (candidates.Count == 0)
            {
                return 0;
            }

            var leaseUntil = now + _options.LeaseDuration;

            // Re-checked in the UPDATE itself: of two dispatchers racing for a message, exactly one gets it, and a
            // message another dispatcher failed since the SELECT above keeps its backoff (AvailableAt moved on).
            await db.OutboxMessages
                .Where(m => candidates.Contains(m.Id) && m.ProcessedAt == null && m.FailedAt == null && m.AvailableAt <= now && (m.LeaseUntil == null || m.LeaseUntil < now))
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.LeaseToken, leaseToken).SetProperty(m => m.LeaseUntil, leaseUntil), cancellationToken);
            claimed = await db.OutboxMessages.AsNoTracking().Where(m => m.LeaseToken == leaseToken).OrderBy(m => m.Id).ToListAsync(cancellationToken);
        }

        foreach (var message in claimed)
        {
            await DeliverAsync(message, leaseToken, cancellationToken);
        }

        return claimed.Count;
    }

    /// <summary>Dispatches until nothing is due (bounded), e.g. for tests, tools and the quick tour.</summary>
    public async Task<int> DrainAsync(int maxRounds = 1000, CancellationToken cancellationToken = default)
    {
        var total = 0;
        for (var round = 0; round < maxRounds; round++)
        {
            var attempted = await DispatchOnceAsync(cancellationToken);
            if (attempted == 0)
            {
                break;
            }

            total += attempted;
        }

        return total;
    }

    private async Task DeliverAsync(OutboxMessage message, Guid leaseToken, CancellationToken cancellationToken)
    {
        using var activity = OpenMavnDiagnostics.ActivitySource.StartActivity("outbox.deliver");
        activity?.SetTag("openmavn.outbox.type", message.Type);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OpenMavnDbContext>();
        string? error = null;
        var permanent = false;
        TimeSpan? retryAfter = null;
        try
        {
            var handler = scope.ServiceProvider.GetServices<IOutboxHandler>().LastOrDefault(h => h.Type == message.Type)
                ?? throw new ProviderException("outbox", $"No handler for outbox message type '{message.Type}'.", transient: false);
            await handler.HandleAsync(message, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (ProviderException ex)
        {
            error = ex.Message;
            permanent = !ex.IsTransient;
            retryAfter = ex.RetryAfter;
        }
#pragma warning disable CA1031 // Any failure of a handler is recorded and retried; the dispatcher itself must go on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            error = ex.GetType().Name + ": " + ex.Message;
        }

        var now = time.GetUtcNow();
        var attempts = message.Attempts + 1;
        if (error is null)
        {
            await db.OutboxMessages.Where(m => m.Id == message.Id && m.LeaseToken == leaseToken)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.ProcessedAt, now).SetProperty(m => m.Attempts, attempts).SetProperty(m => m.LeaseToken, (Guid?)null).SetProperty(m => m.LeaseUntil, (DateTimeOffset?)null), CancellationToken.None);
            return;
        }

        var truncated = error.Length > 2000 ? error[..2000] : error;
        if (permanent || attempts >= _options.MaxAttempts)
        {
            LogFailed(logger, message.Id, message.Type, attempts, truncated);
            await db.OutboxMessages.Where(m => m.Id == message.Id && m.LeaseToken == leaseToken)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.FailedAt, now).SetProperty(m => m.Attempts, attempts).SetProperty(m => m.LastError, truncated).SetProperty(m => m.LeaseToken, (Guid?)null).SetProperty(m => m.LeaseUntil, (DateTimeOffset?)null), CancellationToken.None);
            return;
        }

        var delay = Backoff(attempts, retryAfter);
        LogRetry(logger, message.Id, message.Type, attempts, delay, truncated);
        await db.OutboxMessages.Where(m => m.Id == message.Id && m.LeaseToken == leaseToken)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.AvailableAt, now + delay).SetProperty(m => m.Attempts, attempts).SetProperty(m => m.LastError, truncated).SetProperty(m => m.LeaseToken, (Guid?)null).SetProperty(m => m.LeaseUntil, (DateTimeOffset?)null), CancellationToken.None);
    }

    /// <summary>Exponential backoff (base × 2^(attempt−1), capped), never shorter than the provider's Retry-After.</summary>
    internal TimeSpan Backoff(int attempts, TimeSpan? retryAfter)
    {
        var exponent = Math.Min(attempts - 1, 20);
        var delay = TimeSpan.FromTicks(Math.Min(_options.RetryMaxDelay.Ticks, _options.RetryBaseDelay.Ticks * (1L << exponent)));
        return retryAfter is { } wait && wait > delay ? wait : delay;
    }

    [LoggerMessage(EventId = 8001, Level = LogLevel.Warning, Message = "Outbox message {MessageId} ({Type}) attempt {Attempt} failed; retrying in {Delay}: {Error}")]
    private static partial void LogRetry(ILogger logger, long messageId, string type, int attempt, TimeSpan delay, string error);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Error, Message = "Outbox message {MessageId} ({Type}) failed for good after {Attempts} attempts: {Error}")]
    private static partial void LogFailed(ILogger logger, long messageId, string type, int attempts, string error);
}
