using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Audit;

/// <summary>The audit log of operators' actions.</summary>
public sealed class AuditLog(OpenMavnDbContext db, TimeProvider time)
{
    /// <summary>Appends an entry.</summary>
    public async Task RecordAsync(Actor actor, string action, string target, string? details, int outcome, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        db.AuditEntries.Add(new AuditEntry
        {
            ActorId = actor.Id,
            Action = Truncate(action, 100),
            Target = Truncate(target, 200),
            Details = details is null ? null : Truncate(details, 2000),
            Outcome = outcome,
            At = time.GetUtcNow(),
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Entries, newest first (operators only).</summary>
    public async Task<IReadOnlyList<AuditEntry>> ListAsync(Actor actor, int skip = 0, int take = 100, CancellationToken cancellationToken = default)
    {
        MerchantAccess.RequireAdmin(actor);
        return await db.AuditEntries.AsNoTracking().OrderByDescending(a => a.Id).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 1000)).ToListAsync(cancellationToken);
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
