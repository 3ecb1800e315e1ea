using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenMavn.Storage.SqlServer.Migrations
{
    /// <inheritdoc />
    public partial class ChainLedger : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ChainLedgerCampaigns",
                columns: table => new
                {
                    Ledger = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: false),
                    CampaignId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    Supply = table.Column<int>(type: "int", nullable: false),
                    FaceValue = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChainLedgerCampaigns", x => new { x.Ledger, x.CampaignId });
                });

            migrationBuilder.CreateTable(
                name: "ChainLedgerEvents",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    Ledger = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: false),
                    EventId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    VoucherId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    CampaignId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    Kind = table.Column<string>(type: "nvarchar(32)", maxLength: 32, nullable: false),
                    Payload = table.Column<string>(type: "nvarchar(max)", nullable: false),
                    VoucherSeq = table.Column<int>(type: "int", nullable: false),
                    Status = table.Column<string>(type: "nvarchar(32)", maxLength: 32, nullable: false),
                    TransactionId = table.Column<long>(type: "bigint", nullable: true),
                    ResultCode = table.Column<int>(type: "int", nullable: true),
                    Attempts = table.Column<int>(type: "int", nullable: false),
                    LastError = table.Column<string>(type: "nvarchar(2000)", maxLength: 2000, nullable: true),
                    QueuedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChainLedgerEvents", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ChainLedgerLeases",
                columns: table => new
                {
                    Ledger = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: false),
                    Holder = table.Column<string>(type: "nvarchar(100)", maxLength: 100, nullable: false),
                    Until = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChainLedgerLeases", x => x.Ledger);
                });

            migrationBuilder.CreateTable(
                name: "ChainLedgerTransactions",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    Ledger = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: false),
                    Account = table.Column<string>(type: "nvarchar(42)", maxLength: 42, nullable: false),
                    Nonce = table.Column<long>(type: "bigint", nullable: false),
                    Kind = table.Column<string>(type: "nvarchar(32)", maxLength: 32, nullable: false),
                    Hash = table.Column<string>(type: "nvarchar(66)", maxLength: 66, nullable: false),
                    RawTransaction = table.Column<string>(type: "nvarchar(max)", nullable: false),
                    MaxFeePerGas = table.Column<string>(type: "nvarchar(80)", maxLength: 80, nullable: false),
                    MaxPriorityFeePerGas = table.Column<string>(type: "nvarchar(80)", maxLength: 80, nullable: false),
                    GasLimit = table.Column<long>(type: "bigint", nullable: false),
                    Status = table.Column<string>(type: "nvarchar(32)", maxLength: 32, nullable: false),
                    BlockNumber = table.Column<long>(type: "bigint", nullable: true),
                    BlockHash = table.Column<string>(type: "nvarchar(66)", maxLength: 66, nullable: true),
                    GasUsed = table.Column<long>(type: "bigint", nullable: true),
                    EffectiveGasPrice = table.Column<string>(type: "nvarchar(80)", maxLength: 80, nullable: true),
                    ContractAddress = table.Column<string>(type: "nvarchar(42)", maxLength: 42, nullable: true),
                    BroadcastAttempts = table.Column<int>(type: "int", nullable: false),
                    LastError = table.Column<string>(type: "nvarchar(2000)", maxLength: 2000, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    BroadcastAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChainLedgerTransactions", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ChainLedgerVouchers",
                columns: table => new
                {
                    Ledger = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: false),
                    VoucherId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    CampaignId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    Serial = table.Column<long>(type: "bigint", nullable: false),
                    LastSeq = table.Column<int>(type: "int", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChainLedgerVouchers", x => new { x.Ledger, x.VoucherId });
                });

            migrationBuilder.CreateIndex(
                name: "IX_ChainLedgerEvents_Ledger_EventId",
                table: "ChainLedgerEvents",
                columns: new[] { "Ledger", "EventId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ChainLedgerEvents_Ledger_Status_Id",
                table: "ChainLedgerEvents",
                columns: new[] { "Ledger", "Status", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_ChainLedgerEvents_Ledger_VoucherId_VoucherSeq",
                table: "ChainLedgerEvents",
                columns: new[] { "Ledger", "VoucherId", "VoucherSeq" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ChainLedgerEvents_TransactionId",
                table: "ChainLedgerEvents",
                column: "TransactionId");

            migrationBuilder.CreateIndex(
                name: "IX_ChainLedgerTransactions_Hash",
                table: "ChainLedgerTransactions",
                column: "Hash");

            migrationBuilder.CreateIndex(
                name: "IX_ChainLedgerTransactions_Ledger_Account_Nonce",
                table: "ChainLedgerTransactions",
                columns: new[] { "Ledger", "Account", "Nonce" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ChainLedgerTransactions_Ledger_Status",
                table: "ChainLedgerTransactions",
                columns: new[] { "Ledger", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_ChainLedgerVouchers_Ledger_CampaignId_Serial",
                table: "ChainLedgerVouchers",
                columns: new[] { "Ledger", "CampaignId", "Serial" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ChainLedgerCampaigns");

            migrationBuilder.DropTable(
                name: "ChainLedgerEvents");

            migrationBuilder.DropTable(
                name: "ChainLedgerLeases");

            migrationBuilder.DropTable(
                name: "ChainLedgerTransactions");

            migrationBuilder.DropTable(
                name: "ChainLedgerVouchers");
        }
    }
}
