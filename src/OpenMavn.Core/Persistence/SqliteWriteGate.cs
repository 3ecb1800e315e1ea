using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;

namespace OpenMavn.Core.Persistence;

/// <summary>
/// One write transaction at a time per SQLite file in this process, awaited asynchronously. SQLite lets one writer in
/// at a time anyway (BEGIN IMMEDIATE); queuing here instead of on the file lock keeps the waiting requests off the
/// thread pool (Microsoft.Data.Sqlite blocks the calling thread while SQLite waits for the lock), and serves them in
/// arrival order. Other processes, and writes outside <see cref="TransactionExtensions.InTransactionAsync{T}"/>, still
/// meet at the file lock (SQLite's busy timeout). Server databases are not gated. bench/README.md ("Load") has the
/// measurements.
/// </summary>
internal static class SqliteWriteGate
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    public static async ValueTask<Turn> EnterAsync(OpenMavnDbContext db, CancellationToken cancellationToken)
    {
        if (!db.Database.IsSqlite())
        {
            return default;
        }

        var gate = Gates.GetOrAdd(db.Database.GetConnectionString() ?? "", static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Turn(gate);
    }

    /// <summary>Leaves the gate when disposed.</summary>
    public readonly struct Turn(SemaphoreSlim? gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }
}
