using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenMavn.Storage.SqlServer.Migrations
{
    /// <inheritdoc />
    public partial class LedgerReconciliation : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "LedgerReconciliationReports",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    Ledger = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: false),
                    Trigger = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    Slot = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: true),
                    RunLock = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: true),
                    StartedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    HeartbeatAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    FinishedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    VouchersChecked = table.Column<long>(type: "bigint", nullable: false),
                    CampaignsChecked = table.Column<long>(type: "bigint", nullable: false),
                    InFlight = table.Column<long>(type: "bigint", nullable: false),
                    DifferenceCount = table.Column<long>(type: "bigint", nullable: false),
                    DifferencesJson = table.Column<string>(type: "nvarchar(max)", nullable: false),
                    Error = table.Column<string>(type: "nvarchar(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_LedgerReconciliationReports", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_LedgerReconciliationReports_RunLock",
                table: "LedgerReconciliationReports",
                column: "RunLock",
                unique: true,
                filter: "[RunLock] IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_LedgerReconciliationReports_Slot",
                table: "LedgerReconciliationReports",
                column: "Slot",
                unique: true,
                filter: "[Slot] IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_LedgerReconciliationReports_StartedAt",
                table: "LedgerReconciliationReports",
                column: "StartedAt");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "LedgerReconciliationReports");
        }
    }
}
