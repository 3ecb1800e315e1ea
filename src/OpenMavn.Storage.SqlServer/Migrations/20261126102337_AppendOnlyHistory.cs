using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenMavn.Storage.SqlServer.Migrations
{
    /// <inheritdoc />
    public partial class AppendOnlyHistory : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // History and books are append-only: the database itself refuses to change or remove a row.
            migrationBuilder.Sql("CREATE TRIGGER [TR_VoucherActivities_AppendOnly] ON [VoucherActivities] AFTER UPDATE, DELETE AS BEGIN SET NOCOUNT ON; THROW 51000, 'VoucherActivities is append-only', 1; END");
            migrationBuilder.Sql("CREATE TRIGGER [TR_JournalEntries_AppendOnly] ON [JournalEntries] AFTER UPDATE, DELETE AS BEGIN SET NOCOUNT ON; THROW 51000, 'JournalEntries is append-only', 1; END");
            migrationBuilder.Sql("CREATE TRIGGER [TR_JournalLines_AppendOnly] ON [JournalLines] AFTER UPDATE, DELETE AS BEGIN SET NOCOUNT ON; THROW 51000, 'JournalLines is append-only', 1; END");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS [TR_VoucherActivities_AppendOnly];");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS [TR_JournalEntries_AppendOnly];");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS [TR_JournalLines_AppendOnly];");
        }
    }
}
