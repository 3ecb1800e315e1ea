using Microsoft.EntityFrameworkCore;

namespace OpenMavn.Core.Persistence;

/// <summary>
/// Unit-of-work transactions over <see cref="OpenMavnDbContext"/> for OpenMavn and its provider packages: on SQLite
/// they queue for the write lock in-process instead of failing; on server databases a lost optimistic-concurrency
/// race re-runs the work.
/// </summary>
public static class TransactionExtensions
{
    private const int MaxAttempts = 5;

    /// <summary>
    /// Runs <paramref name="work"/> in one database transaction and saves what it changed. On SQLite the
    /// transaction takes the write lock up front (BEGIN IMMEDIATE), so writers queue instead of failing; on server
    /// databases a lost optimistic-concurrency race re-runs the work from a fresh read. Anything thrown rolls back
    /// everything, including guarded bulk updates.
    /// </summary>
    public static async Task<T> InTransactionAsync<T>(this OpenMavnDbContext db, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var strategy = db.Database.CreateExecutionStrategy();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await strategy.ExecuteAsync(
                    (db, work),
                    static async (_, state, ct) =>
                    {
                        // On SQLite, writers of this process queue here without holding a thread: Microsoft.Data.Sqlite
                        // is synchronous underneath, so writers queuing on the database lock itself would each block a
                        // thread-pool thread and starve the requests that could run meanwhile.
                        using var turn = await SqliteWriteGate.EnterAsync(state.db, ct);
                        turn.Hold();
                        await using var transaction = await state.db.Database.BeginTransactionAsync(ct);
                        var result = await state.work(ct);
                        await state.db.SaveChangesAsync(ct);
                        await transaction.CommitAsync(ct);
                        return result;
                    },
                    null,
                    cancellationToken);
            }
            catch (DbUpdateConcurrencyException ex)
            {
                db.ChangeTracker.Clear();
                if (attempt >= MaxAttempts)
                {
                    throw new ConflictException("concurrency.conflict", "The data changed while the request ran; please try again.", ex);
                }
            }
            catch
            {
                db.ChangeTracker.Clear();
                throw;
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> in one database transaction and saves what it changed (see the other overload).</summary>
    public static Task InTransactionAsync(this OpenMavnDbContext db, Func<CancellationToken, Task> work, CancellationToken cancellationToken) =>
        db.InTransactionAsync(
            async ct =>
            {
                await work(ct);
                return true;
            },
            cancellationToken);
}
