namespace OpenMavn.Notifications.Tests;

/// <summary>Sample models with exactly the keys Core produces for each type (the contract in docs/notifications.md).</summary>
internal static class Model
{
    public const string Zone = "Europe/Zurich";

    public static Dictionary<string, string> Purchased(string codes = "ABCD-EFGH-JKMN-PQRS-TVW0") => new()
    {
        ["campaignName"] = "Brunch", ["merchantName"] = "Café <Rosa>", ["quantity"] = "2", ["codes"] = codes,
        ["faceValue"] = "CHF 50.00", ["amountPaid"] = "CHF 90.00", ["expiresAt"] = "2027-12-31T23:00:00.0000000+00:00",
        ["expiresOn"] = "2027-12-31", ["orderId"] = Guid.NewGuid().ToString(), ["timeZone"] = Zone,
    };

    public static Dictionary<string, string> Redeemed(bool usedUp = false) => new()
    {
        ["campaignName"] = "Brunch", ["merchantName"] = "Café Rosa", ["amount"] = "CHF 20.00", ["balance"] = usedUp ? "CHF 0.00" : "CHF 30.00",
        ["usedUp"] = usedUp ? "yes" : "", ["voucherId"] = Guid.NewGuid().ToString(), ["at"] = "2026-11-26T12:00:00.0000000+00:00", ["timeZone"] = Zone,
    };

    public static Dictionary<string, string> Sale() => new()
    {
        ["merchantName"] = "Café Rosa", ["campaignName"] = "Brunch", ["quantity"] = "2", ["amountPaid"] = "CHF 90.00", ["orderId"] = Guid.NewGuid().ToString(),
    };

    public static Dictionary<string, string> Exchange() => new()
    {
        ["offerId"] = Guid.NewGuid().ToString(), ["otherName"] = "Ben", ["givenCampaignName"] = "Brunch", ["givenValue"] = "CHF 50.00",
        ["receivedCampaignName"] = "Dinner", ["receivedValue"] = "CHF 60.00",
    };

    /// <summary>Every type with a full sample model (empty values exercise the inverted sections).</summary>
    public static IEnumerable<(string Type, Dictionary<string, string> Model)> All()
    {
        yield return ("voucher.purchased", Purchased());
        yield return ("gift.received", new()
        {
            ["senderName"] = "Ben", ["message"] = "Happy birthday!", ["campaignName"] = "Brunch", ["merchantName"] = "Café Rosa", ["value"] = "CHF 50.00",
            ["claimUrl"] = "https://app.example.test/gifts/claim?token=abc&x=1", ["giftId"] = Guid.NewGuid().ToString(),
            ["expiresAt"] = "2027-12-31T23:00:00.0000000+00:00", ["expiresOn"] = "2027-12-31", ["timeZone"] = Zone,
        });
        yield return ("gift.received", new()
        {
            ["senderName"] = "Ben", ["message"] = "", ["campaignName"] = "Brunch", ["merchantName"] = "Café Rosa", ["value"] = "CHF 50.00",
            ["claimUrl"] = "", ["giftId"] = Guid.NewGuid().ToString(),
            ["expiresAt"] = "2027-12-31T23:00:00.0000000+00:00", ["expiresOn"] = "2027-12-31", ["timeZone"] = Zone,
        });
        yield return ("gift.delivered", new() { ["recipientEmail"] = "carla@example.test", ["campaignName"] = "Brunch", ["giftId"] = Guid.NewGuid().ToString() });
        var offered = Exchange();
        offered["offerExpiresAt"] = "2026-12-03T12:00:00.0000000+00:00";
        offered["timeZone"] = Zone;
        yield return ("exchange.offered", offered);
        var campaignWide = new Dictionary<string, string>(offered) { ["givenValue"] = "" };
        yield return ("exchange.offered", campaignWide);
        yield return ("exchange.accepted", Exchange());
        yield return ("exchange.declined", Exchange());
        yield return ("voucher.redeemed", Redeemed());
        yield return ("voucher.redeemed", Redeemed(usedUp: true));
        yield return ("voucher.expiry_reminder", new()
        {
            ["campaignName"] = "Brunch", ["merchantName"] = "Café Rosa", ["balance"] = "CHF 30.00", ["expiresOn"] = "2026-12-10", ["daysLeft"] = "14",
            ["voucherId"] = Guid.NewGuid().ToString(), ["timeZone"] = Zone,
        });
        yield return ("refund.completed", new() { ["amount"] = "CHF 45.00", ["reason"] = "Campaign cancelled", ["refundId"] = Guid.NewGuid().ToString(), ["at"] = "2026-11-26T12:00:00.0000000+00:00", ["timeZone"] = Zone });
        yield return ("refund.completed", new() { ["amount"] = "CHF 45.00", ["reason"] = "", ["refundId"] = Guid.NewGuid().ToString(), ["at"] = "2026-11-26T12:00:00.0000000+00:00", ["timeZone"] = Zone });
        yield return ("merchant.sale", Sale());
        foreach (var (status, approved, rejected, comment) in new[] { ("Approved", "yes", "", ""), ("Rejected", "", "yes", "Document unreadable"), ("InReview", "", "", "") })
        {
            yield return ("merchant.kyc_decided", new() { ["merchantName"] = "Café Rosa", ["status"] = status, ["approved"] = approved, ["rejected"] = rejected, ["comment"] = comment });
        }

        yield return ("merchant.daily_summary", new()
        {
            ["merchantName"] = "Café Rosa", ["date"] = "2026-11-25", ["orders"] = "3", ["vouchersSold"] = "5", ["salesAmount"] = "CHF 225.00",
            ["redemptions"] = "2", ["redeemedAmount"] = "CHF 70.00", ["timeZone"] = Zone,
        });
        yield return ("merchant.staff_invited", new() { ["merchantName"] = "Café Rosa", ["role"] = "Staff", ["link"] = "https://app.example.test/set-password?token=x" });
        yield return ("merchant.staff_invited", new() { ["merchantName"] = "Café Rosa", ["role"] = "Manager", ["link"] = "" });
    }

    public static readonly string[] Types =
    [
        "voucher.purchased", "gift.received", "gift.delivered", "exchange.offered", "exchange.accepted", "exchange.declined",
        "voucher.redeemed", "voucher.expiry_reminder", "refund.completed", "merchant.sale", "merchant.kyc_decided",
        "merchant.daily_summary", "merchant.staff_invited",
    ];

    public static readonly string[] Languages = ["en", "de", "fr", "it"];
}
