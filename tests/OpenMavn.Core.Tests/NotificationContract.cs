using OpenMavn.Core.Notifications;

namespace OpenMavn.Core.Tests;

/// <summary>
/// The template model contract (docs: the notification model table shared with the template package): exactly these
/// keys per type. A change that drops or renames a key fails the test of that type.
/// </summary>
internal static class NotificationContract
{
    public static readonly IReadOnlyDictionary<string, string[]> Keys = new Dictionary<string, string[]>
    {
        [NotificationTypes.VoucherPurchased] = ["campaignName", "merchantName", "quantity", "codes", "faceValue", "amountPaid", "expiresAt", "expiresOn", "orderId", "timeZone"],
        [NotificationTypes.GiftReceived] = ["senderName", "message", "campaignName", "merchantName", "value", "claimUrl", "giftId", "expiresAt", "expiresOn", "timeZone"],
        [NotificationTypes.GiftDelivered] = ["recipientEmail", "campaignName", "giftId"],
        [NotificationTypes.ExchangeOffered] = ["offerId", "otherName", "receivedCampaignName", "receivedValue", "givenCampaignName", "givenValue", "offerExpiresAt", "timeZone"],
        [NotificationTypes.ExchangeAccepted] = ["offerId", "otherName", "givenCampaignName", "givenValue", "receivedCampaignName", "receivedValue"],
        [NotificationTypes.ExchangeDeclined] = ["offerId", "otherName", "givenCampaignName", "givenValue", "receivedCampaignName", "receivedValue"],
        [NotificationTypes.VoucherRedeemed] = ["campaignName", "merchantName", "amount", "balance", "usedUp", "voucherId", "at", "timeZone"],
        [NotificationTypes.ExpiryReminder] = ["campaignName", "merchantName", "balance", "expiresOn", "daysLeft", "voucherId", "timeZone"],
        [NotificationTypes.RefundCompleted] = ["amount", "reason", "refundId", "at", "timeZone"],
        [NotificationTypes.MerchantSale] = ["merchantName", "campaignName", "quantity", "amountPaid", "orderId"],
        [NotificationTypes.MerchantKycDecided] = ["merchantName", "status", "approved", "rejected", "comment"],
        [NotificationTypes.MerchantDailySummary] = ["merchantName", "date", "orders", "vouchersSold", "salesAmount", "redemptions", "redeemedAmount", "timeZone"],
        [NotificationTypes.StaffInvited] = ["merchantName", "role", "link"],
    };

    /// <summary>The message's keys are exactly the contract's keys of its type.</summary>
    public static void AssertKeys(NotificationMessage message)
    {
        Assert.True(Keys.TryGetValue(message.Type, out var expected), $"No contract for {message.Type}.");
        Assert.Equal(expected.Order(StringComparer.Ordinal), message.Model.Keys.Order(StringComparer.Ordinal));
    }
}
