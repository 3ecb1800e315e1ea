using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Campaigns;

/// <summary>A campaign's texts in one language.</summary>
/// <param name="Language">Two-letter language.</param>
/// <param name="Name">Name (1–200).</param>
/// <param name="Description">Description (≤ 4000).</param>
/// <param name="ImageUrl">Absolute http(s) image URL.</param>
public sealed record CampaignText(string Language, string Name, string? Description = null, string? ImageUrl = null);

/// <summary>Everything a merchant sets on a campaign.</summary>
/// <param name="Texts">Localized texts; one must be in <paramref name="DefaultLanguage"/>.</param>
/// <param name="DefaultLanguage">Fallback language.</param>
/// <param name="Currency">ISO 4217.</param>
/// <param name="FaceValue">Worth at the merchant, minor units (&gt; 0).</param>
/// <param name="Price">What buyers pay, minor units (0 ≤ price ≤ face value).</param>
/// <param name="Kind">Single-use or stored-value.</param>
/// <param name="Supply">How many can be sold.</param>
/// <param name="PerCustomerLimit">Most per customer (null = no limit).</param>
/// <param name="SalesStartAt">Sales window start.</param>
/// <param name="SalesEndAt">Sales window end.</param>
/// <param name="ValidityKind">Fixed date or days after purchase.</param>
/// <param name="ValidUntil">Last valid day (merchant time zone) for fixed-date validity.</param>
/// <param name="ValidityDays">N for days-after-purchase validity.</param>
/// <param name="Transferable">May be gifted.</param>
/// <param name="Exchangeable">May be exchanged.</param>
public sealed record CampaignDefinition(
    IReadOnlyList<CampaignText> Texts,
    string DefaultLanguage,
    string Currency,
    long FaceValue,
    long Price,
    VoucherKind Kind,
    int Supply,
    int? PerCustomerLimit,
    DateTimeOffset? SalesStartAt,
    DateTimeOffset? SalesEndAt,
    ValidityKind ValidityKind,
    DateOnly? ValidUntil,
    int? ValidityDays,
    bool Transferable,
    bool Exchangeable);

/// <summary>What customers search for.</summary>
/// <param name="Text">Words in a name or description (any language) or the merchant's name.</param>
/// <param name="MerchantId">One merchant.</param>
/// <param name="Currency">ISO 4217.</param>
/// <param name="Latitude">Centre latitude.</param>
/// <param name="Longitude">Centre longitude.</param>
/// <param name="RadiusKm">Radius around the centre (default 10 km).</param>
/// <param name="Skip">Paging offset.</param>
/// <param name="Take">Page size (1–200).</param>
public sealed record CampaignSearch(string? Text = null, Guid? MerchantId = null, string? Currency = null, double? Latitude = null, double? Longitude = null, double? RadiusKm = null, int Skip = 0, int Take = 50);

/// <summary>Creating, editing and moving campaigns through their lifecycle.</summary>
public sealed partial class CampaignService(OpenMavnDbContext db, TimeProvider time, ILogger<CampaignService> logger)
{
    /// <summary>Largest face value accepted (10 million major units of a 2-digit currency).</summary>
    public const long MaxFaceValue = 1_000_000_000;

    /// <summary>Largest supply accepted.</summary>
    public const int MaxSupply = 10_000_000;

    /// <summary>Creates a draft campaign. Owners only.</summary>
    public async Task<Campaign> CreateAsync(Actor actor, Guid merchantId, CampaignDefinition definition, CancellationToken cancellationToken = default)
    {
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Owner, cancellationToken);
        var merchant = await db.Merchants.AsNoTracking().FirstAsync(m => m.Id == merchantId, cancellationToken);
        Validate(definition, merchant.TimeZoneId, frozen: null);
        var now = time.GetUtcNow();
        var campaign = new Campaign { Id = Guid.CreateVersion7(now), MerchantId = merchantId, State = CampaignState.Draft, CreatedAt = now };
        Apply(campaign, definition, now);
        db.Campaigns.Add(campaign);
        await db.SaveChangesAsync(cancellationToken);
        LogChanged(logger, campaign.Id, "created");
        return campaign;
    }

    /// <summary>
    /// Replaces a campaign's definition. Once the first voucher is reserved or sold, price, face value, currency,
    /// validity and kind are frozen; supply never drops below what is already reserved.
    /// </summary>
    public async Task<Campaign> UpdateAsync(Actor actor, Guid campaignId, CampaignDefinition definition, CancellationToken cancellationToken = default)
    {
        var merchantId = await MerchantOfAsync(campaignId, cancellationToken);
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Owner, cancellationToken);
        var timeZone = await db.Merchants.Where(m => m.Id == merchantId).Select(m => m.TimeZoneId).FirstAsync(cancellationToken);
        var result = await db.InTransactionAsync(
            async ct =>
            {
                var campaign = await db.Campaigns.Include(c => c.Translations).FirstAsync(c => c.Id == campaignId, ct);
                if (campaign.State is CampaignState.Ended or CampaignState.Cancelled)
                {
                    throw new ConflictException("campaign.closed", $"The campaign is {campaign.State} and can no longer be edited.");
                }

                Validate(definition, timeZone, campaign.TermsFrozenAt is null ? null : campaign);
                if (definition.Supply < campaign.Reserved)
                {
                    throw new ValidationFailedException("supply", $"Supply cannot drop below the {campaign.Reserved} vouchers already reserved or sold.");
                }

                Apply(campaign, definition, time.GetUtcNow());
                return campaign;
            },
            cancellationToken);
        LogChanged(logger, campaignId, "updated");
        return result;
    }

    /// <summary>Draft → Published. The merchant must be approved and have a connected payment account.</summary>
    public async Task PublishAsync(Actor actor, Guid campaignId, CancellationToken cancellationToken = default)
    {
        var merchantId = await MerchantOfAsync(campaignId, cancellationToken);
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Owner, cancellationToken);
        var merchant = await db.Merchants.AsNoTracking().Include(m => m.PaymentAccount).FirstAsync(m => m.Id == merchantId, cancellationToken);
        if (merchant.KycStatus != KycStatus.Approved)
        {
            throw new ConflictException("merchant.not_approved", $"Only an approved merchant can publish; the review is {merchant.KycStatus}.");
        }

        if (merchant.PaymentAccount is null)
        {
            throw new ConflictException("merchant.no_payment_account", "Connect a payment account before publishing.");
        }

        if (merchant.SuspendedAt is not null)
        {
            throw new ConflictException("merchant.suspended", "A suspended merchant cannot publish.");
        }

        await TransitionAsync(campaignId, [CampaignState.Draft], CampaignState.Published, merchant.TimeZoneId, cancellationToken);
    }

    /// <summary>Published → Paused.</summary>
    public async Task PauseAsync(Actor actor, Guid campaignId, CancellationToken cancellationToken = default)
    {
        await RequireOwnerAsync(actor, campaignId, cancellationToken);
        await TransitionAsync(campaignId, [CampaignState.Published], CampaignState.Paused, null, cancellationToken);
    }

    /// <summary>Paused → Published.</summary>
    public async Task ResumeAsync(Actor actor, Guid campaignId, CancellationToken cancellationToken = default)
    {
        await RequireOwnerAsync(actor, campaignId, cancellationToken);
        await TransitionAsync(campaignId, [CampaignState.Paused], CampaignState.Published, null, cancellationToken);
    }

    /// <summary>Published or Paused → Ended. Vouchers already sold stay valid.</summary>
    public async Task EndAsync(Actor actor, Guid campaignId, CancellationToken cancellationToken = default)
    {
        await RequireOwnerAsync(actor, campaignId, cancellationToken);
        await TransitionAsync(campaignId, [CampaignState.Published, CampaignState.Paused], CampaignState.Ended, null, cancellationToken);
    }

    /// <summary>Cancels a campaign that holds no reservation and sold nothing (otherwise end it).</summary>
    public async Task CancelAsync(Actor actor, Guid campaignId, CancellationToken cancellationToken = default)
    {
        await RequireOwnerAsync(actor, campaignId, cancellationToken);
        var now = time.GetUtcNow();
        var rows = await db.Campaigns
            .Where(c => c.Id == campaignId && c.Reserved == 0 && c.Issued == 0
                && (c.State == CampaignState.Draft || c.State == CampaignState.Published || c.State == CampaignState.Paused))
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.State, CampaignState.Cancelled).SetProperty(c => c.UpdatedAt, now).SetProperty(c => c.Version, c => c.Version + 1), cancellationToken);
        if (rows == 0)
        {
            var campaign = await db.Campaigns.AsNoTracking().FirstAsync(c => c.Id == campaignId, cancellationToken);
            throw campaign.State is CampaignState.Ended or CampaignState.Cancelled
                ? new ConflictException("campaign.closed", $"The campaign is already {campaign.State}.")
                : new ConflictException("campaign.has_sales", "The campaign has reservations or sales; pause or end it instead.");
        }

        LogChanged(logger, campaignId, "cancelled");
    }

    /// <summary>Reads a campaign with its texts.</summary>
    public async Task<Campaign> GetAsync(Guid campaignId, CancellationToken cancellationToken = default) =>
        await db.Campaigns.AsNoTracking().Include(c => c.Translations).FirstOrDefaultAsync(c => c.Id == campaignId, cancellationToken)
            ?? throw new NotFoundException("campaign.not_found", "No such campaign.");

    /// <summary>Published campaigns currently on sale (newest first).</summary>
    public async Task<IReadOnlyList<Campaign>> ListOnSaleAsync(int skip = 0, int take = 50, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        return await db.Campaigns.AsNoTracking().Include(c => c.Translations)
            .Where(c => c.State == CampaignState.Published && (c.SalesStartAt == null || c.SalesStartAt <= now) && (c.SalesEndAt == null || c.SalesEndAt > now))
            .OrderByDescending(c => c.CreatedAt).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 200))
            .ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Searches campaigns on sale: free text (name or description, any language), merchant, currency, and
    /// distance from a point (km). Newest first.
    /// </summary>
    public async Task<IReadOnlyList<Campaign>> SearchAsync(CampaignSearch search, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(search);
        new Validator()
            .Check(search.Text is { Length: > 100 }, "text", "At most 100 characters.")
            .Check(search.Currency is not null && !Currencies.TryNormalize(search.Currency, out _), "currency", "A supported ISO 4217 currency code.")
            .Check(search.Latitude is < -90 or > 90 || (search.Latitude is { } la && double.IsNaN(la)), "latitude", "Between -90 and 90.")
            .Check(search.Longitude is < -180 or > 180 || (search.Longitude is { } lo && double.IsNaN(lo)), "longitude", "Between -180 and 180.")
            .Check((search.Latitude is null) != (search.Longitude is null), "longitude", "Give both latitude and longitude, or neither.")
            .Check(search.RadiusKm is <= 0 or > 20_000 || (search.RadiusKm is { } r && double.IsNaN(r)), "radiusKm", "Between 0 and 20000 km.")
            .ThrowIfInvalid();
        var now = time.GetUtcNow();
        var query = db.Campaigns.AsNoTracking().Include(c => c.Translations)
            .Where(c => c.State == CampaignState.Published && (c.SalesStartAt == null || c.SalesStartAt <= now) && (c.SalesEndAt == null || c.SalesEndAt > now))
            .Join(db.Merchants.Where(m => m.SuspendedAt == null && m.KycStatus == KycStatus.Approved), c => c.MerchantId, m => m.Id, (c, m) => new { c, m });
        if (search.MerchantId is { } merchantId)
        {
            query = query.Where(x => x.c.MerchantId == merchantId);
        }

        if (search.Currency is not null && Currencies.TryNormalize(search.Currency, out var currency))
        {
            query = query.Where(x => x.c.Currency == currency);
        }

        if (!string.IsNullOrWhiteSpace(search.Text))
        {
            var text = search.Text.Trim().ToLowerInvariant();
            query = query.Where(x => x.c.Translations.Any(t => t.Name.ToLower().Contains(text) || (t.Description != null && t.Description.ToLower().Contains(text))) || x.m.Name.ToLower().Contains(text));
        }

        if (search.Latitude is { } lat && search.Longitude is { } lon)
        {
            // A bounding box in SQL, then the exact great-circle distance in memory.
            var radius = search.RadiusKm ?? 10;
            var dLat = radius / 111.0;
            var dLon = radius / Math.Max(0.01, 111.0 * Math.Cos(lat * Math.PI / 180));
            query = query.Where(x => x.m.Latitude != null && x.m.Longitude != null && x.m.Latitude >= lat - dLat && x.m.Latitude <= lat + dLat && x.m.Longitude >= lon - dLon && x.m.Longitude <= lon + dLon);
            var near = await query.ToListAsync(cancellationToken);
            return near.Where(x => DistanceKm(lat, lon, x.m.Latitude!.Value, x.m.Longitude!.Value) <= radius)
                .OrderBy(x => DistanceKm(lat, lon, x.m.Latitude!.Value, x.m.Longitude!.Value))
                .Skip(Math.Max(0, search.Skip)).Take(Math.Clamp(search.Take, 1, 200)).Select(x => x.c).ToList();
        }

        return await query.OrderByDescending(x => x.c.CreatedAt).Skip(Math.Max(0, search.Skip)).Take(Math.Clamp(search.Take, 1, 200)).Select(x => x.c).ToListAsync(cancellationToken);
    }

    /// <summary>A merchant's campaigns in every state (members; operators).</summary>
    public async Task<IReadOnlyList<Campaign>> ListForMerchantAsync(Actor actor, Guid merchantId, CancellationToken cancellationToken = default)
    {
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Staff, cancellationToken);
        return await db.Campaigns.AsNoTracking().Include(c => c.Translations).Where(c => c.MerchantId == merchantId).OrderByDescending(c => c.CreatedAt).ToListAsync(cancellationToken);
    }

    /// <summary>Campaigns in every state across merchants (operators only), optionally of one merchant, newest first.</summary>
    public async Task<IReadOnlyList<Campaign>> ListAllAsync(Actor actor, Guid? merchantId = null, int skip = 0, int take = 100, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        MerchantAccess.RequireAdmin(actor);
        var query = db.Campaigns.AsNoTracking().Include(c => c.Translations).AsQueryable();
        if (merchantId is { } id)
        {
            query = query.Where(c => c.MerchantId == id);
        }

        return await query.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 1000)).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// One campaign of a merchant in any state (members; operators). A campaign of another merchant is reported as not
    /// found, so a route naming one merchant cannot reach another's campaign.
    /// </summary>
    public async Task<Campaign> GetForMerchantAsync(Actor actor, Guid merchantId, Guid campaignId, CancellationToken cancellationToken = default)
    {
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Staff, cancellationToken);
        return await db.Campaigns.AsNoTracking().Include(c => c.Translations).FirstOrDefaultAsync(c => c.Id == campaignId && c.MerchantId == merchantId, cancellationToken)
            ?? throw new NotFoundException("campaign.not_found", "No such campaign.");
    }

    /// <summary>Stores an image for a campaign (owners): PNG, JPEG or WebP, checked by its magic bytes, at most 2 MB.</summary>
    public async Task<CampaignImage> AddImageAsync(Actor actor, Guid campaignId, string contentType, byte[] content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        await RequireOwnerAsync(actor, campaignId, cancellationToken);
        var sniffed = SniffImage(content);
        if (content.Length == 0 || content.Length > 2 * 1024 * 1024)
        {
            throw new ValidationFailedException("image", "An image of at most 2 MB is required.");
        }

        if (sniffed is null || !string.Equals(sniffed, contentType, StringComparison.OrdinalIgnoreCase))
        {
            throw new ValidationFailedException("image", "Only PNG, JPEG or WebP images whose content matches their type.");
        }

        var image = new CampaignImage { Id = Guid.CreateVersion7(time.GetUtcNow()), CampaignId = campaignId, ContentType = sniffed, Content = content, CreatedAt = time.GetUtcNow() };
        db.CampaignImages.Add(image);
        await db.SaveChangesAsync(cancellationToken);
        return image;
    }

    /// <summary>Reads a campaign image (public).</summary>
    public async Task<CampaignImage> GetImageAsync(Guid campaignId, Guid imageId, CancellationToken cancellationToken = default) =>
        await db.CampaignImages.AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId && i.CampaignId == campaignId, cancellationToken)
            ?? throw new NotFoundException("image.not_found", "No such image.");

    /// <summary>Deletes a campaign image (owners).</summary>
    public async Task DeleteImageAsync(Actor actor, Guid campaignId, Guid imageId, CancellationToken cancellationToken = default)
    {
        await RequireOwnerAsync(actor, campaignId, cancellationToken);
        if (await db.CampaignImages.Where(i => i.Id == imageId && i.CampaignId == campaignId).ExecuteDeleteAsync(cancellationToken) == 0)
        {
            throw new NotFoundException("image.not_found", "No such image.");
        }
    }

    /// <summary>Great-circle distance in km (haversine).</summary>
    public static double DistanceKm(double lat1, double lon1, double lat2, double lon2)
    {
        static double Rad(double d) => d * Math.PI / 180;
        var a = Math.Pow(Math.Sin(Rad(lat2 - lat1) / 2), 2) + (Math.Cos(Rad(lat1)) * Math.Cos(Rad(lat2)) * Math.Pow(Math.Sin(Rad(lon2 - lon1) / 2), 2));
        return 6371.0088 * 2 * Math.Asin(Math.Min(1, Math.Sqrt(a)));
    }

    private static string? SniffImage(byte[] b) =>
        b.Length >= 8 && b[0] == 0x89 && b[1] == 0x50 && b[2] == 0x4E && b[3] == 0x47 ? "image/png"
        : b.Length >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF ? "image/jpeg"
        : b.Length >= 12 && b[0] == (byte)'R' && b[1] == (byte)'I' && b[2] == (byte)'F' && b[3] == (byte)'F' && b[8] == (byte)'W' && b[9] == (byte)'E' && b[10] == (byte)'B' && b[11] == (byte)'P' ? "image/webp"
        : null;

    /// <summary>
    /// Ends published or paused fixed-date campaigns whose vouchers' last valid day is over in the merchant's time
    /// zone, so they leave the listings. A guarded update: safe on several hosts.
    /// </summary>
    public async Task<int> EndLapsedAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var horizon = DateOnly.FromDateTime(now.UtcDateTime).AddDays(1);
        var candidates = await db.Campaigns.AsNoTracking()
            .Where(c => (c.State == CampaignState.Published || c.State == CampaignState.Paused) && c.ValidityKind == ValidityKind.FixedDate && c.ValidUntil != null && c.ValidUntil <= horizon)
            .Join(db.Merchants, c => c.MerchantId, m => m.Id, (c, m) => new { c.Id, c.ValidUntil, m.TimeZoneId })
            .ToListAsync(cancellationToken);
        var ended = 0;
        foreach (var c in candidates.Where(c => ComputeExpiry(ValidityKind.FixedDate, c.ValidUntil, null, c.TimeZoneId, now) <= now))
        {
            ended += await db.Campaigns
                .Where(x => x.Id == c.Id && (x.State == CampaignState.Published || x.State == CampaignState.Paused))
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.State, CampaignState.Ended).SetProperty(x => x.UpdatedAt, now).SetProperty(x => x.Version, x => x.Version + 1), cancellationToken);
            LogChanged(logger, c.Id, "ended: its vouchers' validity is over");
        }

        return ended;
    }

    /// <summary>
    /// The instant a voucher bought at <paramref name="purchasedAt"/> stops being valid: the end of its last valid day
    /// in the merchant's time zone (daylight-saving changes included).
    /// </summary>
    public static DateTimeOffset ComputeExpiry(ValidityKind kind, DateOnly? validUntil, int? validityDays, string timeZoneId, DateTimeOffset purchasedAt)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(timeZoneId);
        var lastDay = kind == ValidityKind.FixedDate
            ? validUntil ?? throw new InvalidOperationException("A fixed-date campaign has a ValidUntil date.")
            : DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(purchasedAt, zone).DateTime).AddDays(validityDays ?? throw new InvalidOperationException("A days-after-purchase campaign has ValidityDays."));
        return StartOfDay(lastDay.AddDays(1), zone);
    }

    /// <summary>
    /// The first instant of a local calendar day in a zone (skipping a daylight-saving gap at midnight; when midnight
    /// happens twice, the first one).
    /// </summary>
    internal static DateTimeOffset StartOfDay(DateOnly day, TimeZoneInfo zone)
    {
        var local = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(15);
        }

        if (zone.IsAmbiguousTime(local))
        {
            // ConvertTimeToUtc would pick the standard-time (later) occurrence; the day starts at the earlier one.
            var offset = zone.GetAmbiguousTimeOffsets(local).Max();
            return new DateTimeOffset(local, offset).ToUniversalTime();
        }

        return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, zone), TimeSpan.Zero);
    }

    private static void Validate(CampaignDefinition d, string timeZoneId, Campaign? frozen)
    {
        ArgumentNullException.ThrowIfNull(d);
        var v = new Validator();
        var texts = d.Texts ?? [];
        v.Check(texts.Count == 0, "texts", "At least one localized text is required.");
        v.Check(texts.Count > 20, "texts", "At most 20 languages.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Math.Min(texts.Count, 20); i++)
        {
            var t = texts[i];
            if (t is null)
            {
                v.Add($"texts[{i}]", "Missing.");
                continue;
            }

            v.Check(!Languages.IsValid(t.Language), $"texts[{i}].language", "A two-letter language code is required.");
            v.Check(Languages.IsValid(t.Language) && !seen.Add(Languages.Normalize(t.Language)), $"texts[{i}].language", "Each language appears once.");
            v.Check(string.IsNullOrWhiteSpace(t.Name) || t.Name.Trim().Length > 200, $"texts[{i}].name", "A name of 1 to 200 characters is required.");
            v.Check(t.Description is { Length: > 4000 }, $"texts[{i}].description", "At most 4000 characters.");
            v.Check(t.ImageUrl is not null && !(Uri.TryCreate(t.ImageUrl, UriKind.Absolute, out var image) && (image.Scheme == Uri.UriSchemeHttps || image.Scheme == Uri.UriSchemeHttp) && t.ImageUrl.Length <= 2000), $"texts[{i}].imageUrl", "An absolute http(s) URL of at most 2000 characters.");
        }

        v.Check(!Languages.IsValid(d.DefaultLanguage), "defaultLanguage", "A two-letter language code is required.");
        v.Check(Languages.IsValid(d.DefaultLanguage) && texts.Count > 0 && !seen.Contains(Languages.Normalize(d.DefaultLanguage)), "defaultLanguage", "The default language needs a text.");
        v.Check(!Currencies.TryNormalize(d.Currency, out var currency), "currency", "A supported ISO 4217 currency code is required.");
        v.Check(d.FaceValue is <= 0 or > MaxFaceValue, "faceValue", $"The face value must be between 1 and {MaxFaceValue} minor units.");
        v.Check(d.Price < 0, "price", "The price cannot be negative.");
        v.Check(d.Price > d.FaceValue && d.FaceValue > 0, "price", "The price cannot exceed the face value.");
        v.Check(!Enum.IsDefined(d.Kind), "kind", "Unknown voucher kind.");
        v.Check(d.Supply is < 1 or > MaxSupply, "supply", $"The supply must be between 1 and {MaxSupply}.");
        v.Check(d.PerCustomerLimit is not null && (d.PerCustomerLimit < 1 || d.PerCustomerLimit > d.Supply), "perCustomerLimit", "The per-customer limit must be between 1 and the supply.");
        v.Check(d.SalesStartAt is not null && d.SalesEndAt is not null && d.SalesEndAt <= d.SalesStartAt, "salesEndAt", "The sales window must end after it starts.");
        v.Check(!Enum.IsDefined(d.ValidityKind), "validityKind", "Unknown validity kind.");
        if (d.ValidityKind == ValidityKind.FixedDate)
        {
            v.Check(d.ValidUntil is null, "validUntil", "A fixed-date campaign needs the last valid day.");
            v.Check(d.ValidityDays is not null, "validityDays", "Only days-after-purchase campaigns have validity days.");
            if (d.ValidUntil is { } until && d.SalesEndAt is { } end && TimeZoneInfo.TryFindSystemTimeZoneById(timeZoneId, out var zone))
            {
                v.Check(StartOfDay(until.AddDays(1), zone) < end, "validUntil", "Vouchers must stay valid at least until the end of the sales window.");
            }
        }
        else if (d.ValidityKind == ValidityKind.DaysAfterPurchase)
        {
            v.Check(d.ValidityDays is null or < 1 or > 3650, "validityDays", "Validity must be between 1 and 3650 days.");
            v.Check(d.ValidUntil is not null, "validUntil", "Only fixed-date campaigns have a last valid day.");
        }

        if (frozen is not null)
        {
            const string message = "Frozen: vouchers of this campaign have been sold on these terms.";
            v.Check(currency != frozen.Currency, "currency", message);
            v.Check(d.FaceValue != frozen.FaceValue, "faceValue", message);
            v.Check(d.Price != frozen.Price, "price", message);
            v.Check(d.Kind != frozen.Kind, "kind", message);
            v.Check(d.ValidityKind != frozen.ValidityKind, "validityKind", message);
            v.Check(d.ValidUntil != frozen.ValidUntil, "validUntil", message);
            v.Check(d.ValidityDays != frozen.ValidityDays, "validityDays", message);
        }

        v.ThrowIfInvalid();
    }

    private static void Apply(Campaign campaign, CampaignDefinition d, DateTimeOffset now)
    {
        Currencies.TryNormalize(d.Currency, out var currency);
        campaign.DefaultLanguage = Languages.Normalize(d.DefaultLanguage);
        campaign.Currency = currency;
        campaign.FaceValue = d.FaceValue;
        campaign.Price = d.Price;
        campaign.Kind = d.Kind;
        campaign.Supply = d.Supply;
        campaign.PerCustomerLimit = d.PerCustomerLimit;
        campaign.SalesStartAt = d.SalesStartAt?.ToUniversalTime();
        campaign.SalesEndAt = d.SalesEndAt?.ToUniversalTime();
        campaign.ValidityKind = d.ValidityKind;
        campaign.ValidUntil = d.ValidUntil;
        campaign.ValidityDays = d.ValidityDays;
        campaign.Transferable = d.Transferable;
        campaign.Exchangeable = d.Exchangeable;
        campaign.UpdatedAt = now;

        var wanted = d.Texts.ToDictionary(t => Languages.Normalize(t.Language), StringComparer.Ordinal);
        campaign.Translations.RemoveAll(t => !wanted.ContainsKey(t.Language));
        foreach (var (language, text) in wanted)
        {
            var translation = campaign.Translations.FirstOrDefault(t => t.Language == language);
            if (translation is null)
            {
                translation = new CampaignTranslation { CampaignId = campaign.Id, Language = language };
                campaign.Translations.Add(translation);
            }

            translation.Name = text.Name.Trim();
            translation.Description = text.Description;
            translation.ImageUrl = text.ImageUrl;
        }
    }

    private async Task<Guid> MerchantOfAsync(Guid campaignId, CancellationToken cancellationToken) =>
        await db.Campaigns.Where(c => c.Id == campaignId).Select(c => (Guid?)c.MerchantId).FirstOrDefaultAsync(cancellationToken)
            ?? throw new NotFoundException("campaign.not_found", "No such campaign.");

    private async Task RequireOwnerAsync(Actor actor, Guid campaignId, CancellationToken cancellationToken) =>
        await MerchantAccess.RequireAsync(db, actor, await MerchantOfAsync(campaignId, cancellationToken), MerchantRole.Owner, cancellationToken);

    private async Task TransitionAsync(Guid campaignId, CampaignState[] from, CampaignState to, string? timeZoneId, CancellationToken cancellationToken)
    {
        await db.InTransactionAsync(
            async ct =>
            {
                var campaign = await db.Campaigns.FirstAsync(c => c.Id == campaignId, ct);
                if (!from.Contains(campaign.State))
                {
                    throw new ConflictException("campaign.state", $"The campaign is {campaign.State}; it cannot become {to}.");
                }

                var now = time.GetUtcNow();
                if (to == CampaignState.Published && timeZoneId is not null && campaign.ValidityKind == ValidityKind.FixedDate
                    && ComputeExpiry(campaign.ValidityKind, campaign.ValidUntil, null, timeZoneId, now) <= now)
                {
                    throw new ValidationFailedException("validUntil", "The vouchers' last valid day is already past.");
                }

                campaign.State = to;
                campaign.UpdatedAt = now;
            },
            cancellationToken);
        LogChanged(logger, campaignId, to.ToString());
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Campaign {CampaignId} {Change}")]
    private static partial void LogChanged(ILogger logger, Guid campaignId, string change);
}
