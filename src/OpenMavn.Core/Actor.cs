namespace OpenMavn.Core;

/// <summary>Who performs an operation.</summary>
public enum ActorKind
{
    /// <summary>A background job or the platform itself.</summary>
    System = 0,

    /// <summary>A customer acting on their own vouchers.</summary>
    Customer = 1,

    /// <summary>A member (owner or staff) of a merchant.</summary>
    MerchantMember = 2,

    /// <summary>A platform operator.</summary>
    Admin = 3,

    /// <summary>An integration (POS) authenticated by a merchant API key.</summary>
    ApiKey = 4,
}

/// <summary>The authenticated principal behind an operation; recorded in every activity entry.</summary>
/// <param name="Kind">What kind of principal.</param>
/// <param name="Id">The user id (or API key id); <see cref="Guid.Empty"/> for <see cref="ActorKind.System"/>.</param>
public sealed record Actor(ActorKind Kind, Guid Id)
{
    /// <summary>The platform itself (jobs).</summary>
    public static Actor System { get; } = new(ActorKind.System, Guid.Empty);

    /// <summary>A customer.</summary>
    public static Actor Customer(Guid userId) => new(ActorKind.Customer, userId);

    /// <summary>A merchant member (owner or staff).</summary>
    public static Actor Member(Guid userId) => new(ActorKind.MerchantMember, userId);

    /// <summary>A platform operator.</summary>
    public static Actor Admin(Guid userId) => new(ActorKind.Admin, userId);

    /// <summary>A merchant API key (by key id).</summary>
    public static Actor Key(Guid keyId) => new(ActorKind.ApiKey, keyId);

    /// <inheritdoc />
    public override string ToString() => $"{Kind}:{Id}";
}
