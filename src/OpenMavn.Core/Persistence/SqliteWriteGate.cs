using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
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

    // The gate this async flow holds: a transaction started inside another one's work does not wait for itself (it
    // meets the file lock instead, and its busy timeout, as it did before the gate).
    private static readonly AsyncLocal<SemaphoreSlim?> Held = new();

    public static async ValueTask<Turn> EnterAsync(OpenMavnDbContext db, CancellationToken cancellationToken)
    {
        if (!db.Database.IsSqlite())
        {
            return default;
        }

        var gate = Gates.GetOrAdd(db.Database.GetConnectionString() ?? "", static _ => new SemaphoreSlim(1, 1));
        if (ReferenceEquals(Held.Value, gate))
        {
            return default;
        }

        // As long as a writer would wait for the file lock (Default Timeout), then fail the same way.
        var seconds = db.Database.GetDbConnection() is SqliteConnection { DefaultTimeout: > 0 } c ? c.DefaultTimeout : 30;
        if (!await gate.WaitAsync(TimeSpan.FromSeconds(seconds), cancellationToken))
        {
            throw new TimeoutException($"No turn to write to the SQLite database within {seconds} s.");
        }

        return new Turn(gate);
    }

    /// <summary>A turn at the gate; <see cref="Hold"/> marks the calling async flow as its holder.</summary>
    public readonly struct Turn(SemaphoreSlim? gate) : IDisposable
    {
        /// <summary>Call from the async method that runs the transaction: its callees see the gate as held.</summary>
        public void Hold()
        {
            if (gate is not null)
            {
                Held.Value = gate;
            }
        }

        public void Dispose() => gate?.Release();
    }
}
