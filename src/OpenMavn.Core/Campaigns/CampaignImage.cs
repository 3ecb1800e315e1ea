namespace OpenMavn.Core.Campaigns;

/// <summary>An image uploaded for a campaign, stored in the database (PNG, JPEG or WebP, at most 2 MB).</summary>
public sealed class CampaignImage
{
    /// <summary>Identifier.</summary>
    public Guid Id { get; internal set; }

    /// <summary>Campaign.</summary>
    public Guid CampaignId { get; internal set; }

    /// <summary>image/png, image/jpeg or image/webp.</summary>
    public string ContentType { get; internal set; } = "";

    /// <summary>The bytes.</summary>
    public byte[] Content { get; internal set; } = [];

    /// <summary>Uploaded.</summary>
    public DateTimeOffset CreatedAt { get; internal set; }
}
