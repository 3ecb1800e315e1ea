using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenMavn.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class NotificationSchedules : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Vouchers_Status_ExpiresAt",
                table: "Vouchers");

            migrationBuilder.AddColumn<int>(
                name: "RemindedDays",
                table: "Vouchers",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "DailySummary",
                table: "Merchants",
                type: "INTEGER",
                nullable: false,
                defaultValue: true); // existing merchants get the summary, as new ones do

            migrationBuilder.AddColumn<DateOnly>(
                name: "LastSummaryOn",
                table: "Merchants",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Vouchers_Status_ExpiresAt_RemindedDays",
                table: "Vouchers",
                columns: new[] { "Status", "ExpiresAt", "RemindedDays" });

            migrationBuilder.CreateIndex(
                name: "IX_Merchants_DailySummary_TimeZoneId_LastSummaryOn",
                table: "Merchants",
                columns: new[] { "DailySummary", "TimeZoneId", "LastSummaryOn" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Vouchers_Status_ExpiresAt_RemindedDays",
                table: "Vouchers");

            migrationBuilder.DropIndex(
                name: "IX_Merchants_DailySummary_TimeZoneId_LastSummaryOn",
                table: "Merchants");

            migrationBuilder.DropColumn(
                name: "RemindedDays",
                table: "Vouchers");

            migrationBuilder.DropColumn(
                name: "DailySummary",
                table: "Merchants");

            migrationBuilder.DropColumn(
                name: "LastSummaryOn",
                table: "Merchants");

            migrationBuilder.CreateIndex(
                name: "IX_Vouchers_Status_ExpiresAt",
                table: "Vouchers",
                columns: new[] { "Status", "ExpiresAt" });
        }
    }
}
