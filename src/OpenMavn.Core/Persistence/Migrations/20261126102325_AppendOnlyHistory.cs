using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenMavn.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class AppendOnlyHistory : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // History and books are append-only: the database itself refuses to change or remove a row.
            migrationBuilder.Sql("CREATE TRIGGER \"TR_VoucherActivities_NoUpdate\" BEFORE UPDATE ON \"VoucherActivities\" BEGIN SELECT RAISE(ABORT, 'VoucherActivities is append-only'); END;");
            migrationBuilder.Sql("CREATE TRIGGER \"TR_VoucherActivities_NoDelete\" BEFORE DELETE ON \"VoucherActivities\" BEGIN SELECT RAISE(ABORT, 'VoucherActivities is append-only'); END;");
            migrationBuilder.Sql("CREATE TRIGGER \"TR_JournalEntries_NoUpdate\" BEFORE UPDATE ON \"JournalEntries\" BEGIN SELECT RAISE(ABORT, 'JournalEntries is append-only'); END;");
            migrationBuilder.Sql("CREATE TRIGGER \"TR_JournalEntries_NoDelete\" BEFORE DELETE ON \"JournalEntries\" BEGIN SELECT RAISE(ABORT, 'JournalEntries is append-only'); END;");
            migrationBuilder.Sql("CREATE TRIGGER \"TR_JournalLines_NoUpdate\" BEFORE UPDATE ON \"JournalLines\" BEGIN SELECT RAISE(ABORT, 'JournalLines is append-only'); END;");
            migrationBuilder.Sql("CREATE TRIGGER \"TR_JournalLines_NoDelete\" BEFORE DELETE ON \"JournalLines\" BEGIN SELECT RAISE(ABORT, 'JournalLines is append-only'); END;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS \"TR_VoucherActivities_NoUpdate\";");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS \"TR_VoucherActivities_NoDelete\";");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS \"TR_JournalEntries_NoUpdate\";");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS \"TR_JournalEntries_NoDelete\";");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS \"TR_JournalLines_NoUpdate\";");
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS \"TR_JournalLines_NoDelete\";");
        }
    }
}
