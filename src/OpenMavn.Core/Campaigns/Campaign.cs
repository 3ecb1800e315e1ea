namespace OpenMavn.Core.Campaigns;

/// <summary>Lifecycle of a campaign.</summary>
public enum CampaignState
{
    /// <summary>Being prepared; not visible to customers.</summary>
    Draft = 0,

    /// <summary>On sale (within its sales window).</summary>
    Published = 1,

    /// <summary>Temporarily not on sale.</summary>
    Paused = 2,

    /// <summary>No longer on sale; vouchers already sold stay valid.</summary>
    Ended = 3,

    /// <summary>Withdrawn before anything was sold.</summary>
    Cancelled = 4,
}

/// <summary>How a voucher is consumed.</summary>
public enum VoucherKind
{
    /// <summary>Redeemed whole, once.</summary>
    SingleUse = 0,

    /// <summary>Carries a balance redeemed in parts.</summary>
    StoredValue = 1,
}

/// <summary>How a voucher's expiry is computed.</summary>
public enum ValidityKind
{
    /// <summary>Valid until the end of a fixed date in the merchant's time zone.</summary>
    FixedDate = 0,

    /// <summary>Valid until the end of the day N days after purchase, in the merchant's time zone.</summary>
    DaysAfterPurchase = 1,
}

/// <summary>A voucher offer of a merchant.</summary>
public sealed class Campaign
{
    /// <summary>Identifier.</summary>
    public Guid Id { get; internal set; }

    /// <summary>Owning merchant.</summary>
    public Guid MerchantId { get; internal set; }

    /// <summary>Language used when a translation is missing.</summary>
    public string DefaultLanguage { get; internal set; } = "en";

    /// <summary>Localized texts.</summary>
    public List<CampaignTranslation> Translations { get; internal set; } = [];

    /// <summary>ISO 4217 currency of face value and price.</summary>
    public string Currency { get; internal set; } = "";

    /// <summary>What a voucher is worth at the merchant, in minor units.</summary>
    public long FaceValue { get; internal set; }

    /// <summary>What the customer pays, in minor units (may be below face value; 0 = free).</summary>
    public long Price { get; internal set; }

    /// <summary>Single-use or stored-value.</summary>
    public VoucherKind Kind { get; internal set; }

    /// <summary>How many vouchers may be sold in total.</summary>
    public int Supply { get; internal set; }

    /// <summary>Units held by pending reservations and paid orders (never above <see cref="Supply"/>).</summary>
    public int Reserved { get; internal set; }

    /// <summary>Vouchers issued so far.</summary>
    public int Issued { get; internal set; }

    /// <summary>Most vouchers one customer may buy (null = no limit).</summary>
    public int? PerCustomerLimit { get; internal set; }

    /// <summary>Start of the sales window (null = from publication).</summary>
    public DateTimeOffset? SalesStartAt { get; internal set; }

    /// <summary>End of the sales window (null = open-ended).</summary>
    public DateTimeOffset? SalesEndAt { get; internal set; }

    /// <summary>How expiry is computed.</summary>
    public ValidityKind ValidityKind { get; internal set; }

    /// <summary>For <see cref="ValidityKind.FixedDate"/>: the last valid day (merchant time zone).</summary>
    public DateOnly? ValidUntil { get; internal set; }

    /// <summary>For <see cref="ValidityKind.DaysAfterPurchase"/>: N.</summary>
    public int? ValidityDays { get; internal set; }

    /// <summary>Vouchers may be gifted.</summary>
    public bool Transferable { get; internal set; }

    /// <summary>Vouchers may be exchanged.</summary>
    public bool Exchangeable { get; internal set; }

    /// <summary>Lifecycle state.</summary>
    public CampaignState State { get; internal set; }

    /// <summary>Set when the first voucher was sold: price, face value, currency, validity and kind are frozen.</summary>
    public DateTimeOffset? TermsFrozenAt { get; internal set; }

    /// <summary>Created.</summary>
    public DateTimeOffset CreatedAt { get; internal set; }

    /// <summary>Last changed.</summary>
    public DateTimeOffset UpdatedAt { get; internal set; }

    /// <summary>Optimistic concurrency token.</summary>
    public long Version { get; internal set; }

    /// <summary>Face value as money.</summary>
    public Money FaceValueMoney => new(FaceValue, Currency);

    /// <summary>Price as money.</summary>
    public Money PriceMoney => new(Price, Currency);

    /// <summary>Units still available.</summary>
    public int Available => Supply - Reserved;

    /// <summary>The translation for <paramref name="language"/>, else the default language's, else the first.</summary>
    public CampaignTranslation Localize(string? language)
    {
        var lang = CampaignTranslation.NormalizeLanguage(language);
        return Translations.FirstOrDefault(t => t.Language == lang)
            ?? Translations.FirstOrDefault(t => t.Language == DefaultLanguage)
            ?? Translations.First();
    }
}

/// <summary>A campaign's texts in one language.</summary>
public sealed class CampaignTranslation
{
    /// <summary>Campaign.</summary>
    public Guid CampaignId { get; internal set; }

    /// <summary>Two-letter ISO 639-1 language code, lower case.</summary>
    public string Language { get; internal set; } = "";

    /// <summary>Name.</summary>
    public string Name { get; internal set; } = "";

    /// <summary>Description.</summary>
    public string? Description { get; internal set; }

    /// <summary>Image URL.</summary>
    public string? ImageUrl { get; internal set; }

    /// <summary>Lower-cases and trims a language tag to its two-letter primary subtag ("de-CH" → "de").</summary>
    public static string NormalizeLanguage(string? language)
    {
        var lang = (language ?? "").Trim().ToLowerInvariant();
        var dash = lang.IndexOfAny(['-', '_']);
        return dash > 0 ? lang[..dash] : lang;
    }
}
