using System.Net.Mail;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Security;

namespace OpenMavn.Core.Merchants;

/// <summary>What an SME fills in to register.</summary>
/// <param name="Name">Business name.</param>
/// <param name="Email">Contact email.</param>
/// <param name="Country">ISO 3166-1 alpha-2.</param>
/// <param name="TimeZoneId">IANA time zone (e.g. Europe/Zurich).</param>
/// <param name="Language">Two-letter language.</param>
public sealed record RegisterMerchant(string Name, string Email, string Country, string TimeZoneId, string Language);

/// <summary>A merchant's public profile.</summary>
/// <param name="Name">Business name.</param>
/// <param name="Email">Contact email.</param>
/// <param name="TimeZoneId">IANA time zone.</param>
/// <param name="Language">Two-letter language.</param>
/// <param name="Address">Street address.</param>
/// <param name="City">City.</param>
/// <param name="Latitude">Latitude (WGS 84).</param>
/// <param name="Longitude">Longitude (WGS 84).</param>
/// <param name="DailySummary">Send the daily sales summary email; null leaves the setting as it is.</param>
public sealed record MerchantProfile(string Name, string Email, string TimeZoneId, string Language, string? Address, string? City, double? Latitude, double? Longitude, bool? DailySummary = null);

/// <summary>Merchant self-registration, members, KYC review and the payment account.</summary>
public sealed partial class MerchantService(
    OpenMavnDbContext db,
    TimeProvider time,
    PaymentProviders paymentProviders,
    SecretProtector secrets,
    OutboxWriter outbox,
    ILogger<MerchantService> logger)
{
    /// <summary>Registers a merchant with the calling user as its owner. KYC starts <see cref="KycStatus.Pending"/>.</summary>
    public async Task<Merchant> RegisterAsync(Actor actor, RegisterMerchant command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(command);
        if (actor.Kind is not (ActorKind.MerchantMember or ActorKind.Customer) || actor.Id == Guid.Empty)
        {
            throw new ForbiddenException("merchant.register_forbidden", "A signed-in user registers a merchant.");
        }

        var v = new Validator()
            .Check(string.IsNullOrWhiteSpace(command.Name) || command.Name.Trim().Length > 200, "name", "A name of 1 to 200 characters is required.")
            .Check(!IsEmail(command.Email), "email", "A valid email address is required.")
            .Check(command.Country is null || command.Country.Trim().Length != 2 || !command.Country.Trim().All(char.IsAsciiLetter), "country", "A two-letter ISO 3166 country code is required.")
            .Check(!TimeZoneInfo.TryFindSystemTimeZoneById(command.TimeZoneId ?? "", out _), "timeZoneId", "An IANA time zone such as Europe/Zurich is required.")
            .Check(!Languages.IsValid(command.Language), "language", "A two-letter language code is required.");
        v.ThrowIfInvalid();

        var now = time.GetUtcNow();
        var merchant = new Merchant
        {
            Id = Guid.CreateVersion7(now),
            Name = command.Name.Trim(),
            Email = NormalizeEmail(command.Email),
            Country = command.Country!.Trim().ToUpperInvariant(),
            TimeZoneId = command.TimeZoneId!,
            Language = Languages.Normalize(command.Language),
            KycStatus = KycStatus.Pending,
            CreatedAt = now,
            LastSummaryOn = Notifications.NotificationFormat.LocalDate(now, command.TimeZoneId!).AddDays(-1),
        };
        merchant.Members.Add(new MerchantMember { MerchantId = merchant.Id, UserId = actor.Id, Email = merchant.Email, Role = MerchantRole.Owner, AddedAt = now });
        db.Merchants.Add(merchant);
        await db.SaveChangesAsync(cancellationToken);
        LogRegistered(logger, merchant.Id);
        return merchant;
    }

    /// <summary>
    /// Checks that <paramref name="actor"/> may act on the merchant with <paramref name="role"/> rights (operators may
    /// always), so a caller can refuse an outsider before looking at anything else. Throws 403/404 errors.
    /// </summary>
    public Task EnsureAccessAsync(Actor actor, Guid merchantId, MerchantRole role, CancellationToken cancellationToken = default) =>
        MerchantAccess.RequireAsync(db, actor, merchantId, role, cancellationToken);

    /// <summary>Reads a merchant (members and payment account included; the secret stays encrypted).</summary>
    public async Task<Merchant> GetAsync(Actor actor, Guid merchantId, CancellationToken cancellationToken = default)
    {
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Staff, cancellationToken);
        return await db.Merchants.AsNoTracking().Include(m => m.Members).Include(m => m.PaymentAccount)
            .FirstAsync(m => m.Id == merchantId, cancellationToken);
    }

    /// <summary>
    /// Updates the public profile and settings (owners): name, contact, language, time zone, address, location and
    /// the daily summary preference.
    /// </summary>
    public async Task<Merchant> UpdateProfileAsync(Actor actor, Guid merchantId, MerchantProfile profile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Owner, cancellationToken);
        new Validator()
            .Check(string.IsNullOrWhiteSpace(profile.Name) || profile.Name.Trim().Length > 200, "name", "A name of 1 to 200 characters is required.")
            .Check(!IsEmail(profile.Email), "email", "A valid email address is required.")
            .Check(!TimeZoneInfo.TryFindSystemTimeZoneById(profile.TimeZoneId ?? "", out _), "timeZoneId", "An IANA time zone such as Europe/Zurich is required.")
            .Check(!Languages.IsValid(profile.Language), "language", "A two-letter language code is required.")
            .Check(profile.Address is { Length: > 300 }, "address", "At most 300 characters.")
            .Check(profile.City is { Length: > 100 }, "city", "At most 100 characters.")
            .Check(profile.Latitude is not null && (double.IsNaN(profile.Latitude.Value) || profile.Latitude is < -90 or > 90), "latitude", "Between -90 and 90.")
            .Check(profile.Longitude is not null && (double.IsNaN(profile.Longitude.Value) || profile.Longitude is < -180 or > 180), "longitude", "Between -180 and 180.")
            .Check((profile.Latitude is null) != (profile.Longitude is null), "longitude", "Give both latitude and longitude, or neither.")
            .ThrowIfInvalid();
        return await db.InTransactionAsync(
            async ct =>
            {
                var merchant = await db.Merchants.FirstAsync(m => m.Id == merchantId, ct);
                merchant.Name = profile.Name.Trim();
                merchant.Email = NormalizeEmail(profile.Email);
                merchant.TimeZoneId = profile.TimeZoneId!;
                merchant.Language = Languages.Normalize(profile.Language);
                merchant.Address = profile.Address?.Trim();
                merchant.City = profile.City?.Trim();
                merchant.Latitude = profile.Latitude;
                merchant.Longitude = profile.Longitude;
                merchant.DailySummary = profile.DailySummary ?? merchant.DailySummary;
                return merchant;
            },
            cancellationToken);
    }

    /// <summary>Merchants for operators, optionally by KYC status, newest first.</summary>
    public async Task<IReadOnlyList<Merchant>> ListAsync(Actor actor, KycStatus? status = null, int skip = 0, int take = 100, CancellationToken cancellationToken = default)
    {
        MerchantAccess.RequireAdmin(actor);
        var query = db.Merchants.AsNoTracking().Include(m => m.PaymentAccount).AsQueryable();
        if (status is { } s)
        {
            query = query.Where(m => m.KycStatus == s);
        }

        return await query.OrderByDescending(m => m.CreatedAt).Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 1000)).ToListAsync(cancellationToken);
    }

    /// <summary>The merchants a user belongs to.</summary>
    public async Task<IReadOnlyList<Merchant>> ListMineAsync(Actor actor, CancellationToken cancellationToken = default) =>
        await db.Merchants.AsNoTracking().Include(m => m.Members).Where(m => m.Members.Any(x => x.UserId == actor.Id)).OrderBy(m => m.Name).ToListAsync(cancellationToken);

    /// <summary>An operator suspends a merchant: nothing is sold or redeemed until it is reinstated.</summary>
    public async Task SuspendAsync(Actor actor, Guid merchantId, string reason, CancellationToken cancellationToken = default)
    {
        MerchantAccess.RequireAdmin(actor);
        var why = RequireComment(reason, "reason");
        var now = time.GetUtcNow();
        var rows = await db.Merchants.Where(m => m.Id == merchantId)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.SuspendedAt, m => m.SuspendedAt ?? now).SetProperty(m => m.SuspensionReason, why).SetProperty(m => m.Version, m => m.Version + 1), cancellationToken);
        if (rows == 0)
        {
            throw new NotFoundException("merchant.not_found", "No such merchant.");
        }
    }

    /// <summary>An operator lifts a suspension.</summary>
    public async Task ReinstateAsync(Actor actor, Guid merchantId, CancellationToken cancellationToken = default)
    {
        MerchantAccess.RequireAdmin(actor);
        var rows = await db.Merchants.Where(m => m.Id == merchantId)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.SuspendedAt, (DateTimeOffset?)null).SetProperty(m => m.SuspensionReason, (string?)null).SetProperty(m => m.Version, m => m.Version + 1), cancellationToken);
        if (rows == 0)
        {
            throw new NotFoundException("merchant.not_found", "No such merchant.");
        }
    }

    /// <summary>
    /// Adds (or changes the role of) a member. Owners only. With <paramref name="invitationLink"/>, the new member is
    /// sent an invitation (through the outbox, in the same transaction) carrying that link.
    /// </summary>
    public async Task AddMemberAsync(Actor actor, Guid merchantId, Guid userId, string email, MerchantRole role, CancellationToken cancellationToken = default, string? invitationLink = null)
    {
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Owner, cancellationToken);
        new Validator()
            .Check(userId == Guid.Empty, "userId", "A user id is required.")
            .Check(!IsEmail(email), "email", "A valid email address is required.")
            .Check(!Enum.IsDefined(role), "role", "Unknown role.")
            .ThrowIfInvalid();
        await db.InTransactionAsync(
            async ct =>
            {
                await LockMembersAsync(merchantId, ct);
                var member = await db.MerchantMembers.FirstOrDefaultAsync(m => m.MerchantId == merchantId && m.UserId == userId, ct);
                if (member is null)
                {
                    db.MerchantMembers.Add(new MerchantMember { MerchantId = merchantId, UserId = userId, Email = NormalizeEmail(email), Role = role, AddedAt = time.GetUtcNow() });
                }
                else
                {
                    if (member.Role == MerchantRole.Owner && role != MerchantRole.Owner)
                    {
                        await EnsureAnotherOwnerAsync(merchantId, userId, ct);
                    }

                    member.Role = role;
                    member.Email = NormalizeEmail(email);
                }

                if (invitationLink is not null)
                {
                    var merchant = await db.Merchants.AsNoTracking().FirstAsync(m => m.Id == merchantId, ct);
                    outbox.Notify(new NotificationMessage(
                        NotificationTypes.StaffInvited,
                        new NotificationRecipient(userId, NormalizeEmail(email), null),
                        merchant.Language,
                        new Dictionary<string, string> { ["merchantName"] = merchant.Name, ["role"] = role.ToString(), ["link"] = invitationLink },
                        $"invite:{merchantId:N}:{userId:N}:{time.GetUtcNow().UtcTicks}"));
                }
            },
            cancellationToken);
    }

    /// <summary>Removes a member. The last owner cannot be removed.</summary>
    public async Task RemoveMemberAsync(Actor actor, Guid merchantId, Guid userId, CancellationToken cancellationToken = default)
    {
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Owner, cancellationToken);
        await db.InTransactionAsync(
            async ct =>
            {
                await LockMembersAsync(merchantId, ct);
                var member = await db.MerchantMembers.FirstOrDefaultAsync(m => m.MerchantId == merchantId && m.UserId == userId, ct)
                    ?? throw new NotFoundException("merchant.member_not_found", "No such member.");
                if (member.Role == MerchantRole.Owner)
                {
                    await EnsureAnotherOwnerAsync(merchantId, userId, ct);
                }

                db.MerchantMembers.Remove(member);
            },
            cancellationToken);
    }

    /// <summary>The merchant submits (or resubmits) its KYC data: Pending or RequiresData → InReview.</summary>
    public Task SubmitForReviewAsync(Actor actor, Guid merchantId, CancellationToken cancellationToken = default) =>
        TransitionAsync(actor, merchantId, [KycStatus.Pending, KycStatus.RequiresData], KycStatus.InReview, null, ownerAction: true, cancellationToken);

    /// <summary>An operator approves: InReview → Approved.</summary>
    public Task ApproveAsync(Actor actor, Guid merchantId, string? comment = null, CancellationToken cancellationToken = default) =>
        TransitionAsync(actor, merchantId, [KycStatus.InReview], KycStatus.Approved, comment, ownerAction: false, cancellationToken);

    /// <summary>An operator rejects with a comment: InReview → Rejected.</summary>
    public Task RejectAsync(Actor actor, Guid merchantId, string comment, CancellationToken cancellationToken = default)
    {
        MerchantAccess.RequireAdmin(actor);
        return TransitionAsync(actor, merchantId, [KycStatus.InReview], KycStatus.Rejected, RequireComment(comment), ownerAction: false, cancellationToken);
    }

    /// <summary>An operator asks for more data with a comment: InReview → RequiresData.</summary>
    public Task RequestDataAsync(Actor actor, Guid merchantId, string comment, CancellationToken cancellationToken = default)
    {
        MerchantAccess.RequireAdmin(actor);
        return TransitionAsync(actor, merchantId, [KycStatus.InReview], KycStatus.RequiresData, RequireComment(comment), ownerAction: false, cancellationToken);
    }

    /// <summary>
    /// Connects the merchant's own payment account: the provider checks the credentials, then the secret is
    /// stored encrypted. Owners only.
    /// </summary>
    public async Task ConnectPaymentAccountAsync(Actor actor, Guid merchantId, string provider, string accountId, string secret, CancellationToken cancellationToken = default)
    {
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Owner, cancellationToken);
        var v = new Validator()
            .Check(string.IsNullOrWhiteSpace(accountId) || accountId.Length > 200, "accountId", "An account id of 1 to 200 characters is required.")
            .Check(string.IsNullOrEmpty(secret) || secret.Length > 1000, "secret", "A secret of 1 to 1000 characters is required.");
        if (!paymentProviders.TryGet(provider, out var paymentProvider))
        {
            v.Add("provider", $"Unknown payment provider. Available: {string.Join(", ", paymentProviders.Names)}.");
        }

        v.ThrowIfInvalid();
        try
        {
            await paymentProvider!.VerifyAccountAsync(new PaymentAccountCredentials(accountId.Trim(), secret), cancellationToken);
        }
        catch (ProviderException ex)
        {
            LogCredentialsRefused(logger, merchantId, paymentProvider!.Name, ex.Message);
            throw new ValidationFailedException("secret", "The payment provider refused these credentials: " + ex.Message);
        }

        // Encrypt before the transaction: creating or rotating a Data Protection key writes to this database.
        var protectedSecret = secrets.Protect(secret);
        await db.InTransactionAsync(
            async ct =>
            {
                var account = await db.MerchantPaymentAccounts.FirstOrDefaultAsync(a => a.MerchantId == merchantId, ct);
                if (account is null)
                {
                    account = new MerchantPaymentAccount { MerchantId = merchantId };
                    db.MerchantPaymentAccounts.Add(account);
                }

                account.Provider = paymentProvider!.Name;
                account.AccountId = accountId.Trim();
                account.ProtectedSecret = protectedSecret;
                account.VerifiedAt = time.GetUtcNow();
            },
            cancellationToken);
        LogAccountConnected(logger, merchantId, paymentProvider!.Name, accountId.Trim());
    }

    /// <summary>The KYC history of a merchant.</summary>
    public async Task<IReadOnlyList<KycReview>> GetKycHistoryAsync(Actor actor, Guid merchantId, CancellationToken cancellationToken = default)
    {
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Owner, cancellationToken);
        return await db.KycReviews.AsNoTracking().Where(r => r.MerchantId == merchantId).OrderBy(r => r.Id).ToListAsync(cancellationToken);
    }

    internal static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();

    /// <summary>True for a plausible email address (one address, a dot in the domain, at most 320 characters).</summary>
    public static bool IsEmail(string? email) =>
        !string.IsNullOrWhiteSpace(email) && email.Length <= 320 && MailAddress.TryCreate(email.Trim(), out var parsed)
        && parsed.Address == email.Trim() && parsed.Host.Contains('.', StringComparison.Ordinal);

    private static string RequireComment(string comment, string field = "comment")
    {
        if (string.IsNullOrWhiteSpace(comment) || comment.Length > 2000)
        {
            throw new ValidationFailedException(field, $"A {field} of 1 to 2000 characters is required.");
        }

        return comment.Trim();
    }

    /// <summary>
    /// Member changes bump the merchant's version, so two concurrent changes (two owners removing each other) cannot
    /// both pass the "another owner remains" check on a server database: the second one re-runs and sees the first.
    /// </summary>
    private async Task LockMembersAsync(Guid merchantId, CancellationToken ct)
    {
        var merchant = await db.Merchants.FirstAsync(m => m.Id == merchantId, ct);
        db.Entry(merchant).Property(m => m.Version).IsModified = true;
    }

    private async Task EnsureAnotherOwnerAsync(Guid merchantId, Guid userId, CancellationToken cancellationToken)
    {
        if (!await db.MerchantMembers.AnyAsync(m => m.MerchantId == merchantId && m.UserId != userId && m.Role == MerchantRole.Owner, cancellationToken))
        {
            throw new ConflictException("merchant.last_owner", "A merchant needs at least one owner.");
        }
    }

    private async Task TransitionAsync(Actor actor, Guid merchantId, KycStatus[] from, KycStatus to, string? comment, bool ownerAction, CancellationToken cancellationToken)
    {
        if (ownerAction)
        {
            await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Owner, cancellationToken);
        }
        else
        {
            MerchantAccess.RequireAdmin(actor);
        }

        if (comment is { Length: > 2000 })
        {
            throw new ValidationFailedException("comment", "A comment has at most 2000 characters.");
        }

        await db.InTransactionAsync(
            async ct =>
            {
                var merchant = await db.Merchants.FirstOrDefaultAsync(m => m.Id == merchantId, ct)
                    ?? throw new NotFoundException("merchant.not_found", "No such merchant.");
                if (!from.Contains(merchant.KycStatus))
                {
                    throw new ConflictException("merchant.kyc_state", $"The review is {merchant.KycStatus}; it cannot become {to}.");
                }

                var now = time.GetUtcNow();
                db.KycReviews.Add(new KycReview { MerchantId = merchantId, From = merchant.KycStatus, To = to, Comment = comment, Actor = actor.ToString(), At = now });
                merchant.KycStatus = to;
                merchant.KycComment = comment;
                if (!ownerAction)
                {
                    outbox.Notify(new NotificationMessage(
                        NotificationTypes.MerchantKycDecided,
                        new NotificationRecipient(null, merchant.Email, merchant.Name),
                        merchant.Language,
                        new Dictionary<string, string>
                        {
                            ["merchantName"] = merchant.Name,
                            ["status"] = to.ToString(),
                            ["approved"] = NotificationFormat.Flag(to == KycStatus.Approved),
                            ["rejected"] = NotificationFormat.Flag(to == KycStatus.Rejected),
                            ["comment"] = comment ?? "",
                        },
                        $"kyc:{merchantId:N}:{Guid.CreateVersion7(now):N}"));
                }
            },
            cancellationToken);
        LogKyc(logger, merchantId, to);
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Merchant {MerchantId} registered")]
    private static partial void LogRegistered(ILogger logger, Guid merchantId);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Merchant {MerchantId} KYC is now {Status}")]
    private static partial void LogKyc(ILogger logger, Guid merchantId, KycStatus status);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Merchant {MerchantId} connected {Provider} account {AccountId}")]
    private static partial void LogAccountConnected(ILogger logger, Guid merchantId, string provider, string accountId);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Merchant {MerchantId}: {Provider} refused the credentials: {Reason}")]
    private static partial void LogCredentialsRefused(ILogger logger, Guid merchantId, string provider, string reason);
}

/// <summary>Language codes.</summary>
public static class Languages
{
    /// <summary>The languages every template ships in.</summary>
    public static IReadOnlyList<string> Supported { get; } = ["en", "de", "fr", "it"];

    /// <summary>True for a two-letter code (optionally with a region, e.g. de-CH).</summary>
    public static bool IsValid(string? language)
    {
        var normalized = Normalize(language);
        return normalized.Length == 2 && normalized.All(char.IsAsciiLetterLower);
    }

    /// <summary>"de-CH" → "de".</summary>
    public static string Normalize(string? language) => Campaigns.CampaignTranslation.NormalizeLanguage(language);
}
