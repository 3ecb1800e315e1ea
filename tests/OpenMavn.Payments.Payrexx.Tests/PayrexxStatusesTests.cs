using OpenMavn.Core.Payments;

namespace OpenMavn.Payments.Payrexx.Tests;

public sealed class PayrexxStatusesTests
{
    [Theory]
    [InlineData("waiting", PaymentStatus.Pending)]
    [InlineData("initiated", PaymentStatus.Pending)]
    [InlineData("uncaptured", PaymentStatus.Pending)]
    [InlineData("authorized", PaymentStatus.Pending)]
    [InlineData("reserved", PaymentStatus.Pending)]
    [InlineData("confirmed", PaymentStatus.Confirmed)]
    [InlineData("declined", PaymentStatus.Failed)]
    [InlineData("error", PaymentStatus.Failed)]
    [InlineData("expired", PaymentStatus.Failed)]
    [InlineData("insecure", PaymentStatus.Failed)]
    [InlineData("cancelled", PaymentStatus.Cancelled)]
    [InlineData("refunded", PaymentStatus.Refunded)]
    [InlineData("partially-refunded", PaymentStatus.PartiallyRefunded)]
    [InlineData("refund_pending", PaymentStatus.RefundPending)]
    [InlineData("chargeback", PaymentStatus.Disputed)]
    [InlineData("disputed", PaymentStatus.Disputed)]
    [InlineData("Confirmed", PaymentStatus.Confirmed)]
    [InlineData("on_hold_forever", PaymentStatus.Unknown)]
    [InlineData("partially_refunded", PaymentStatus.Unknown)]
    [InlineData("", PaymentStatus.Unknown)]
    [InlineData(null, PaymentStatus.Unknown)]
    public void Maps_every_documented_status_and_tolerates_unknown_ones(string? raw, PaymentStatus expected) =>
        Assert.Equal(expected, PayrexxStatuses.Map(raw));
}
