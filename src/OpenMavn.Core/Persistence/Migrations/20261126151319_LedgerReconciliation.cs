using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenMavn.Core.Persistence.Migrations
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
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Ledger = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Trigger = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Slot = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    RunLock = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    StartedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    HeartbeatAt = table.Column<long>(type: "INTEGER", nullable: false),
                    FinishedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    VouchersChecked = table.Column<long>(type: "INTEGER", nullable: false),
                    CampaignsChecked = table.Column<long>(type: "INTEGER", nullable: false),
                    InFlight = table.Column<long>(type: "INTEGER", nullable: false),
                    DifferenceCount = table.Column<long>(type: "INTEGER", nullable: false),
                    DifferencesJson = table.Column<string>(type: "TEXT", nullable: false),
                    Error = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_LedgerReconciliationReports", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_LedgerReconciliationReports_RunLock",
                table: "LedgerReconciliationReports",
                column: "RunLock",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_LedgerReconciliationReports_Slot",
                table: "LedgerReconciliationReports",
                column: "Slot",
                unique: true);

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
