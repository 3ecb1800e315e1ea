using OpenMavn.Core.Ledger;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Vouchers;

/// <summary>Appends a voucher's activity entry and queues the matching ledger event, in the same unit of work.</summary>
public sealed class VoucherHistory(OpenMavnDbContext db, OutboxWriter outbox, TimeProvider time)
{
    internal void Record(
        Voucher voucher,
        VoucherActivityKind kind,
        Actor actor,
        long amount,
        Guid? referenceId,
        Guid? fromOwner = null,
        Guid? toOwner = null,
        int campaignSupply = 0)
    {
        var now = time.GetUtcNow();
        db.VoucherActivities.Add(new VoucherActivity
        {
            VoucherId = voucher.Id,
            Kind = kind,
            Actor = actor.ToString(),
            At = now,
            Amount = amount,
            BalanceAfter = voucher.Balance,
            FromOwnerId = fromOwner,
            ToOwnerId = toOwner,
            ReferenceId = referenceId,
        });

        LedgerEventKind? ledgerKind = kind switch
        {
            VoucherActivityKind.Issued => LedgerEventKind.Issued,
            VoucherActivityKind.Transferred or VoucherActivityKind.Exchanged => LedgerEventKind.Transferred,
            VoucherActivityKind.Redeemed => LedgerEventKind.Redeemed,
            VoucherActivityKind.RedemptionReversed => LedgerEventKind.RedemptionReversed,
            VoucherActivityKind.Expired => LedgerEventKind.Expired,
            VoucherActivityKind.Refunded => LedgerEventKind.Refunded,
            _ => null,
        };
        if (ledgerKind is { } lk)
        {
            outbox.Ledger(new LedgerEvent(
                Guid.CreateVersion7(now),
                lk,
                voucher.Id,
                voucher.CampaignId,
                voucher.MerchantId,
                campaignSupply,
                toOwner ?? voucher.OwnerId,
                fromOwner,
                amount,
                voucher.Balance,
                voucher.Currency,
                now));
        }
    }
}
