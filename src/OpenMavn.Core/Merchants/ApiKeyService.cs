using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Merchants;

/// <summary>A new API key: <see cref="Secret"/> is shown once and never stored.</summary>
/// <param name="Key">The stored key (hash only).</param>
/// <param name="Secret">The full key to give the till: <c>omk_{id}_{secret}</c>.</param>
public sealed record CreatedApiKey(MerchantApiKey Key, string Secret);

/// <summary>Per-merchant API keys for POS and partner systems: hashed at rest, shown once, revocable.</summary>
public sealed class ApiKeyService(OpenMavnDbContext db, TimeProvider time)
{
    private const string Prefix = "omk_";

    /// <summary>Creates a key (owners only).</summary>
    public async Task<CreatedApiKey> CreateAsync(Actor actor, Guid merchantId, string name, CancellationToken cancellationToken = default)
    {
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Owner, cancellationToken);
        if (string.IsNullOrWhiteSpace(name) || name.Length > 100)
        {
            throw new ValidationFailedException("name", "A name of 1 to 100 characters is required.");
        }

        var now = time.GetUtcNow();
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var key = new MerchantApiKey { Id = Guid.CreateVersion7(now), MerchantId = merchantId, Name = name.Trim(), SecretHash = Hash(secret), CreatedAt = now, CreatedBy = actor.Id };
        db.MerchantApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        return new CreatedApiKey(key, $"{Prefix}{key.Id:N}_{secret}");
    }

    /// <summary>The merchant's keys (owners only); secrets are never returned.</summary>
    public async Task<IReadOnlyList<MerchantApiKey>> ListAsync(Actor actor, Guid merchantId, CancellationToken cancellationToken = default)
    {
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Owner, cancellationToken);
        return await db.MerchantApiKeys.AsNoTracking().Where(k => k.MerchantId == merchantId).OrderBy(k => k.CreatedAt).ToListAsync(cancellationToken);
    }

    /// <summary>Revokes a key at once (owners only).</summary>
    public async Task RevokeAsync(Actor actor, Guid merchantId, Guid keyId, CancellationToken cancellationToken = default)
    {
        await MerchantAccess.RequireAsync(db, actor, merchantId, MerchantRole.Owner, cancellationToken);
        var now = time.GetUtcNow();
        var rows = await db.MerchantApiKeys.Where(k => k.Id == keyId && k.MerchantId == merchantId)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, k => k.RevokedAt ?? now), cancellationToken);
        if (rows == 0)
        {
            throw new NotFoundException("api_key.not_found", "No such API key.");
        }
    }

    /// <summary>Checks a presented key; returns it when valid and not revoked, else null. Constant-time comparison.</summary>
    public async Task<MerchantApiKey?> AuthenticateAsync(string? presented, CancellationToken cancellationToken = default)
    {
        if (presented is null || !presented.StartsWith(Prefix, StringComparison.Ordinal) || presented.Length > 200)
        {
            return null;
        }

        var parts = presented[Prefix.Length..].Split('_');
        if (parts.Length != 2 || !Guid.TryParseExact(parts[0], "N", out var id))
        {
            return null;
        }

        var key = await db.MerchantApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Id == id, cancellationToken);
        if (key is null || key.RevokedAt is not null
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(parts[1])), Encoding.ASCII.GetBytes(key.SecretHash)))
        {
            return null;
        }

        var now = time.GetUtcNow();
        if (key.LastUsedAt is null || now - key.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            await db.MerchantApiKeys.Where(k => k.Id == id).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), cancellationToken);
        }

        return key;
    }

    private static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
