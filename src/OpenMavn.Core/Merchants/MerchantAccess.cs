using Microsoft.EntityFrameworkCore;
using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Merchants;

/// <summary>Tenancy: a merchant's members act on their merchant only; operators act on all.</summary>
internal static class MerchantAccess
{
    public static async Task RequireAsync(OpenMavnDbContext db, Actor actor, Guid merchantId, MerchantRole needed, CancellationToken cancellationToken)
    {
        if (actor.Kind == ActorKind.Admin)
        {
            if (!await db.Merchants.AnyAsync(m => m.Id == merchantId, cancellationToken))
            {
                throw new NotFoundException("merchant.not_found", "No such merchant.");
            }

            return;
        }

        if (actor.Kind == ActorKind.ApiKey)
        {
            // An API key acts for its own merchant, with staff rights (validate, redeem, list), never as an owner.
            var keyMerchant = await db.MerchantApiKeys.Where(k => k.Id == actor.Id && k.RevokedAt == null).Select(k => (Guid?)k.MerchantId).FirstOrDefaultAsync(cancellationToken);
            if (keyMerchant != merchantId || needed == MerchantRole.Owner)
            {
                throw new ForbiddenException("merchant.forbidden", "This API key may not do this.");
            }

            return;
        }

        if (actor.Kind != ActorKind.MerchantMember)
        {
            throw new ForbiddenException("merchant.forbidden", "Only members of this merchant may do this.");
        }

        var role = await db.MerchantMembers
            .Where(m => m.MerchantId == merchantId && m.UserId == actor.Id)
            .Select(m => (MerchantRole?)m.Role)
            .FirstOrDefaultAsync(cancellationToken);
        if (role is null || (needed == MerchantRole.Owner && role != MerchantRole.Owner))
        {
            throw new ForbiddenException("merchant.forbidden", needed == MerchantRole.Owner
                ? "Only an owner of this merchant may do this."
                : "Only members of this merchant may do this.");
        }
    }

    public static void RequireAdmin(Actor actor)
    {
        if (actor.Kind != ActorKind.Admin)
        {
            throw new ForbiddenException("admin.required", "Only a platform operator may do this.");
        }
    }
}
