using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenMavn.Storage.SqlServer.Migrations
{
    /// <inheritdoc />
    public partial class CheckoutAttempt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "CheckoutRequestedAt",
                table: "Orders",
                type: "datetimeoffset",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "CheckoutRequestedAt",
                table: "Orders");
        }
    }
}
