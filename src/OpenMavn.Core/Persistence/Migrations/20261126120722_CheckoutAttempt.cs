using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenMavn.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class CheckoutAttempt : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "CheckoutRequestedAt",
                table: "Orders",
                type: "INTEGER",
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
