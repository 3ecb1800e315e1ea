using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace OpenMavn.Core.Tests;

public sealed class SqliteMigrationTests
{
    [Fact]
    public async Task The_SQLite_migrations_match_the_model_and_the_database_runs_in_WAL_mode()
    {
        await using var host = await TestHost.StartAsync();
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Persistence.OpenMavnDbContext>();

        Assert.False(db.Database.HasPendingModelChanges(), "The model changed without a SQLite migration: run dotnet ef migrations add in src/OpenMavn.Core.");
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        var mode = await db.Database.SqlQueryRaw<string>("PRAGMA journal_mode").ToListAsync();
        Assert.Equal("wal", Assert.Single(mode));
    }
}
