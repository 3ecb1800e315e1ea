using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace OpenMavn.Samples.QrBillPayments.Storage;

/// <summary>
/// Opens the provider's database, creating its tables first if they are missing (also when the file is shared with
/// other tables, where EF's EnsureCreated would do nothing).
/// </summary>
internal sealed class QrBillDatabase
{
    private readonly DbContextOptions<QrBillDbContext> _options;
    private readonly SemaphoreSlim _schemaLock = new(1, 1);
    private volatile bool _schemaReady;

    public QrBillDatabase(IOptions<QrBillOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var csb = new SqliteConnectionStringBuilder(options.Value.ConnectionString);
        if (!options.Value.ConnectionString.Contains("Default Timeout", StringComparison.OrdinalIgnoreCase))
        {
            // Writers wait for SQLite's lock instead of failing at once.
            csb.DefaultTimeout = 30;
        }

        _options = new DbContextOptionsBuilder<QrBillDbContext>().UseSqlite(csb.ToString()).Options;
    }

    public async Task<QrBillDbContext> OpenAsync(CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken);
        return new QrBillDbContext(_options);
    }

    public async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        if (_schemaReady)
        {
            return;
        }

        await _schemaLock.WaitAsync(cancellationToken);
        try
        {
            if (_schemaReady)
            {
                return;
            }

            await using var db = new QrBillDbContext(_options);
            var connection = db.Database.GetDbConnection();
            await db.Database.OpenConnectionAsync(cancellationToken);
            await using (var pragma = connection.CreateCommand())
            {
                pragma.CommandText = "PRAGMA journal_mode=WAL;";
                await pragma.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var check = connection.CreateCommand();
            check.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'qrbill_bills';";
            var exists = Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) > 0;
            if (!exists)
            {
                // The whole schema in one transaction: two hosts starting together create it once (the loser's
                // CREATE fails and it reads the winner's tables on the next call).
                var script = db.Database.GenerateCreateScript();
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                await db.Database.ExecuteSqlRawAsync(script, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }

            _schemaReady = true;
        }
        finally
        {
            _schemaLock.Release();
        }
    }
}

/// <summary>Creates the provider's tables when the host starts, so a broken connection string fails the start.</summary>
internal sealed class QrBillSchemaStartup(QrBillDatabase database) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => database.EnsureSchemaAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
