using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace OpenMavn.Core.Persistence;

/// <summary>Lets <c>dotnet ef</c> build the SQLite model to generate this package's migrations.</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<OpenMavnDbContext>
{
    public OpenMavnDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<OpenMavnDbContext>()
            .UseSqlite("Data Source=design-time.db", sqlite => sqlite.MigrationsAssembly(typeof(OpenMavnDbContext).Assembly.GetName().Name))
            .Options);
}
