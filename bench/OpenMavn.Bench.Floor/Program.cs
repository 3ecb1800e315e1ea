// The floor: a bare minimal API that does one SQLite write transaction per request, with the journal settings of
// OpenMavn's SQLite storage (AddSqliteStorage): WAL journal, writers queue on the lock for up to 60 s
// (Default Timeout = 60, and SQLite's own busy_timeout of 60 000 ms set on each connection, as OpenMavn's
// SqliteBusyTimeoutInterceptor does), and transactions take the write lock up front (BEGIN IMMEDIATE,
// Microsoft.Data.Sqlite's default for BeginTransaction). Connection pooling and synchronous mode are the defaults,
// as in OpenMavn. The database file is Floor:Database (default floor.db in the working directory).
using Microsoft.Data.Sqlite;

// The builder and logging of `dotnet new web` (appsettings.json), like the OpenMavn host's.
var builder = WebApplication.CreateBuilder(args);
var file = builder.Configuration["Floor:Database"] ?? "floor.db";
var connectionString = new SqliteConnectionStringBuilder { DataSource = file, DefaultTimeout = 60 }.ToString();

using (var setup = new SqliteConnection(connectionString))
{
    setup.Open();
    using var command = setup.CreateCommand();
    command.CommandText = """
        PRAGMA journal_mode=WAL;
        CREATE TABLE IF NOT EXISTS Writes (Id TEXT NOT NULL PRIMARY KEY, Payload TEXT NOT NULL, At INTEGER NOT NULL);
        """;
    command.ExecuteNonQuery();
}

var app = builder.Build();

app.MapGet("/health", () => Results.Ok());

app.MapPost("/write", async (CancellationToken cancellationToken) =>
{
    var id = Guid.CreateVersion7();
    await using var connection = new SqliteConnection(connectionString);
    await connection.OpenAsync(cancellationToken);
    await using (var busy = connection.CreateCommand())
    {
        busy.CommandText = "PRAGMA busy_timeout = 60000;";
        await busy.ExecuteNonQueryAsync(cancellationToken);
    }

    await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken); // BEGIN IMMEDIATE
    await using var command = connection.CreateCommand();
    command.Transaction = transaction;
    command.CommandText = "INSERT INTO Writes (Id, Payload, At) VALUES ($id, $payload, $at)";
    command.Parameters.AddWithValue("$id", id.ToString());
    command.Parameters.AddWithValue("$payload", "floor");
    command.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.UtcTicks);
    await command.ExecuteNonQueryAsync(cancellationToken);
    await transaction.CommitAsync(cancellationToken);
    return Results.Ok(new { id });
});

app.Run();
