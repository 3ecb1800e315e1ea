using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenMavn.Core.Persistence.Migrations
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
                    Ledger = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CampaignId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Supply = table.Column<int>(type: "INTEGER", nullable: false),
                    FaceValue = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChainLedgerCampaigns", x => new { x.Ledger, x.CampaignId });
                });

            migrationBuilder.CreateTable(
                name: "ChainLedgerEvents",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Ledger = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    EventId = table.Column<Guid>(type: "TEXT", nullable: false),
                    VoucherId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CampaignId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Payload = table.Column<string>(type: "TEXT", nullable: false),
                    VoucherSeq = table.Column<int>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    TransactionId = table.Column<long>(type: "INTEGER", nullable: true),
                    ResultCode = table.Column<int>(type: "INTEGER", nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    QueuedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChainLedgerEvents", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ChainLedgerLeases",
                columns: table => new
                {
                    Ledger = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Holder = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Until = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChainLedgerLeases", x => x.Ledger);
                });

            migrationBuilder.CreateTable(
                name: "ChainLedgerTransactions",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Ledger = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Account = table.Column<string>(type: "TEXT", maxLength: 42, nullable: false),
                    Nonce = table.Column<long>(type: "INTEGER", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Hash = table.Column<string>(type: "TEXT", maxLength: 66, nullable: false),
                    RawTransaction = table.Column<string>(type: "TEXT", nullable: false),
                    MaxFeePerGas = table.Column<string>(type: "TEXT", maxLength: 80, nullable: false),
                    MaxPriorityFeePerGas = table.Column<string>(type: "TEXT", maxLength: 80, nullable: false),
                    GasLimit = table.Column<long>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    BlockNumber = table.Column<long>(type: "INTEGER", nullable: true),
                    BlockHash = table.Column<string>(type: "TEXT", maxLength: 66, nullable: true),
                    GasUsed = table.Column<long>(type: "INTEGER", nullable: true),
                    EffectiveGasPrice = table.Column<string>(type: "TEXT", maxLength: 80, nullable: true),
                    ContractAddress = table.Column<string>(type: "TEXT", maxLength: 42, nullable: true),
                    BroadcastAttempts = table.Column<int>(type: "INTEGER", nullable: false),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    BroadcastAt = table.Column<long>(type: "INTEGER", nullable: true),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ChainLedgerTransactions", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ChainLedgerVouchers",
                columns: table => new
                {
                    Ledger = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    VoucherId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CampaignId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Serial = table.Column<long>(type: "INTEGER", nullable: false),
                    LastSeq = table.Column<int>(type: "INTEGER", nullable: false)
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
