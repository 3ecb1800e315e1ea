using OpenMavn.Core;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Exchanges;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.AspNetCore.Apis;

/// <summary>An amount: minor units, currency, and a display string.</summary>
/// <param name="Amount">Minor units.</param>
/// <param name="Currency">ISO 4217.</param>
/// <param name="Display">e.g. "CHF 50.00".</param>
public sealed record MoneyView(long Amount, string Currency, string Display)
{
    /// <summary>From domain money.</summary>
    public static MoneyView From(Money money) => new(money.Amount, money.Currency, money.ToString());

    /// <summary>From minor units and currency.</summary>
    public static MoneyView From(long amount, string currency) => From(new Money(amount, currency));
}

/// <summary>A campaign as customers see it.</summary>
public sealed record CampaignView(
    Guid Id,
    Guid MerchantId,
    string Language,
    string Name,
    string? Description,
    string? ImageUrl,
    MoneyView FaceValue,
    MoneyView Price,
    VoucherKind Kind,
    int Supply,
    int Available,
    int? PerCustomerLimit,
    DateTimeOffset? SalesStartAt,
    DateTimeOffset? SalesEndAt,
    ValidityKind ValidityKind,
    DateOnly? ValidUntil,
    int? ValidityDays,
    bool Transferable,
    bool Exchangeable,
    CampaignState State)
{
    /// <summary>Localized view of a campaign.</summary>
    public static CampaignView From(Campaign c, string? language)
    {
        ArgumentNullException.ThrowIfNull(c);
        var text = c.Localize(language);
        return new(c.Id, c.MerchantId, text.Language, text.Name, text.Description, text.ImageUrl, MoneyView.From(c.FaceValueMoney), MoneyView.From(c.PriceMoney),
            c.Kind, c.Supply, c.Available, c.PerCustomerLimit, c.SalesStartAt, c.SalesEndAt, c.ValidityKind, c.ValidUntil, c.ValidityDays, c.Transferable, c.Exchangeable, c.State);
    }
}

/// <summary>An order.</summary>
public sealed record OrderView(Guid Id, Guid CampaignId, int Quantity, MoneyView Total, OrderStatus Status, string? CheckoutUrl, DateTimeOffset ReservationExpiresAt, DateTimeOffset CreatedAt, DateTimeOffset? PaidAt)
{
    /// <summary>From an order.</summary>
    public static OrderView From(Order o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return new(o.Id, o.CampaignId, o.Quantity, MoneyView.From(o.Total), o.Status, o.CheckoutUrl, o.ReservationExpiresAt, o.CreatedAt, o.PaidAt);
    }
}

/// <summary>A voucher. <see cref="Code"/> is present for its owner, the merchant and operators only.</summary>
public sealed record VoucherView(Guid Id, Guid CampaignId, Guid MerchantId, string? Code, VoucherKind Kind, MoneyView FaceValue, MoneyView Balance, VoucherStatus Status, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, bool GiftPending)
{
    /// <summary>From a voucher; <paramref name="showCode"/> decides whether the bearer code is included.</summary>
    public static VoucherView From(Voucher v, bool showCode = true)
    {
        ArgumentNullException.ThrowIfNull(v);
        return new(v.Id, v.CampaignId, v.MerchantId, showCode ? v.DisplayCode : null, v.Kind, MoneyView.From(v.FaceValue, v.Currency), MoneyView.From(v.BalanceMoney), v.Status, v.IssuedAt, v.ExpiresAt, v.PendingGiftId is not null);
    }
}

/// <summary>One history entry.</summary>
public sealed record ActivityView(long Id, VoucherActivityKind Kind, string Actor, DateTimeOffset At, long Amount, long BalanceAfter, Guid? FromOwnerId, Guid? ToOwnerId, Guid? ReferenceId)
{
    /// <summary>From an activity.</summary>
    public static ActivityView From(VoucherActivity a)
    {
        ArgumentNullException.ThrowIfNull(a);
        return new(a.Id, a.Kind, a.Actor, a.At, a.Amount, a.BalanceAfter, a.FromOwnerId, a.ToOwnerId, a.ReferenceId);
    }
}

/// <summary>A ledger receipt.</summary>
public sealed record LedgerReceiptView(Guid EventId, LedgerEventKind Kind, string Ledger, string? TransactionReference, long? Position, LedgerReceiptStatus Status)
{
    /// <summary>From a receipt.</summary>
    public static LedgerReceiptView From(LedgerReceipt r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new(r.EventId, r.Kind, r.Ledger, r.TransactionReference, r.Position, r.Status);
    }
}

/// <summary>A voucher with its history and ledger receipts.</summary>
public sealed record VoucherDetailView(VoucherView Voucher, IReadOnlyList<ActivityView> Activity, IReadOnlyList<LedgerReceiptView> LedgerReceipts)
{
    /// <summary>From a detail.</summary>
    public static VoucherDetailView From(VoucherDetail d, bool showCode = true)
    {
        ArgumentNullException.ThrowIfNull(d);
        return new(VoucherView.From(d.Voucher, showCode), d.Activity.Select(ActivityView.From).ToList(), d.LedgerReceipts.Select(LedgerReceiptView.From).ToList());
    }
}

/// <summary>A gift (the claim token is never shown here).</summary>
public sealed record GiftView(Guid Id, Guid VoucherId, Guid SenderId, string RecipientEmail, string? Message, DateTimeOffset? DeliverAt, GiftStatus Status, Guid? RecipientId, DateTimeOffset CreatedAt)
{
    /// <summary>From a gift.</summary>
    public static GiftView From(Gift g)
    {
        ArgumentNullException.ThrowIfNull(g);
        return new(g.Id, g.VoucherId, g.SenderId, g.RecipientEmail, g.Message, g.DeliverAt, g.Status, g.RecipientId, g.CreatedAt);
    }
}

/// <summary>An exchange offer.</summary>
public sealed record ExchangeOfferView(Guid Id, Guid OffererId, Guid OfferedVoucherId, Guid? RequestedVoucherId, Guid? RequestedCampaignId, Guid? CounterpartyId, ExchangeOfferStatus Status, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, string? CloseReason)
{
    /// <summary>From an offer.</summary>
    public static ExchangeOfferView From(ExchangeOffer o)
    {
        ArgumentNullException.ThrowIfNull(o);
        return new(o.Id, o.OffererId, o.OfferedVoucherId, o.RequestedVoucherId, o.RequestedCampaignId, o.CounterpartyId, o.Status, o.CreatedAt, o.ExpiresAt, o.CloseReason);
    }
}
