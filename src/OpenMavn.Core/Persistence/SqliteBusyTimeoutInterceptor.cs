using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace OpenMavn.Core.Persistence;

/// <summary>
/// Sets SQLite's own busy timeout on every connection OpenMavn opens. Without it, a writer that finds the write lock
/// taken gets SQLITE_BUSY at once and Microsoft.Data.Sqlite retries it after a fixed 150 ms sleep (until
/// Default Timeout): under concurrent writes (requests, the outbox dispatcher, the jobs) a request that waits a few
/// microseconds for the lock waited 150, 300, 600 ms, and throughput fell to a fraction of what SQLite can do. SQLite's
/// busy handler retries within a millisecond or two and in practice hands the lock to the next writer right away.
/// bench/README.md ("Load") has the measurements.
/// </summary>
internal sealed class SqliteBusyTimeoutInterceptor(int milliseconds) : DbConnectionInterceptor
{
    private readonly string _pragma = $"PRAGMA busy_timeout = {milliseconds};";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = _pragma;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = connection.CreateCommand();
        command.CommandText = _pragma;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
