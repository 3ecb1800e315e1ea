using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using OpenMavn.Core;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Vouchers;
using OpenMavn.Samples.QrBillPayments.Storage;

namespace OpenMavn.Samples.QrBillPayments.Tests;

/// <summary>The real host: customers order, bills exist, bank notifications arrive, vouchers are issued.</summary>
public sealed class EndToEndTests
{
    [Fact]
    public async Task Customers_order_pay_by_QR_bill_and_get_their_vouchers_once_the_bank_notification_is_imported()
    {
        await using var shop = await QrBillShop.StartAsync();
        var customer = await shop.CustomerAsync();
        var first = await shop.OrderAsync(customer, 1); // bill 1: 45.00
        var second = await shop.OrderAsync(customer, 2); // bill 2: 90.00
        var third = await shop.OrderAsync(customer, 1); // bill 3: 45.00

        // The bill exists: the checkout link shows its QR code, and its payload carries the order's reference and amount.
        var bill = await shop.UseAsync<QrBillService, QrBillView?>(s => s.GetBillAsync(second.ProviderPaymentId!));
        Assert.NotNull(bill);
        Assert.Equal("000000000000000000000000026", bill.Reference);
        Assert.Equal(new Money(9000, "CHF"), bill.Amount);
        Assert.Equal("CH4431999123000889012", bill.Iban);
        Assert.Equal(["90.00", "CHF"], bill.Payload.Split('\n')[18..20]);
        Assert.Equal("Kaffee-Gutschein × 2", bill.Payload.Split('\n')[29]);
        using var http = new HttpClient { BaseAddress = shop.Address };
        var page = await http.GetAsync(new Uri(second.CheckoutUrl!).PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("image/svg+xml", page.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/qrbill/bills/qrb_000000000000000000000000")).StatusCode);

        // Day 1 (camt.054.001.04): bill 1 paid, bill 2 paid in part, an unknown reference; a pending entry and a debit skipped.
        await using (var day1 = Camt054ReaderTests.Sample("camt054-v04.xml"))
        {
            var report = await shop.ImportAsync(day1);
            Assert.Equal([QrBillReceiptOutcome.Paid, QrBillReceiptOutcome.PartiallyPaid, QrBillReceiptOutcome.UnknownReference], report.Lines.Select(l => l.Outcome));
            Assert.Equal([first.Id, second.Id, (Guid?)null], report.Lines.Select(l => l.OrderId));
            Assert.Equal(2, report.Skipped);
            Assert.Equal(1, report.BillsPaid);
            Assert.Equal(1, report.NeedingAction);
        }

        Assert.Equal(0, await shop.QueryAsync(db => db.Vouchers.CountAsync()));
        await shop.DrainAsync();
        Assert.Equal(OrderStatus.Paid, await StatusAsync(shop, first.Id));
        Assert.Equal(OrderStatus.PendingPayment, await StatusAsync(shop, second.Id));
        Assert.Equal(1, await shop.QueryAsync(db => db.Vouchers.CountAsync(v => v.OrderId == first.Id)));
        Assert.Equal("TX-20261201-0001", (await shop.QueryAsync(db => db.Orders.AsNoTracking().FirstAsync(o => o.Id == first.Id))).ProviderTransactionId);

        // The same file again: every transaction was seen, nothing changes.
        await using (var again = Camt054ReaderTests.Sample("camt054-v04.xml"))
        {
            var report = await shop.ImportAsync(again);
            Assert.Equal(3, report.Duplicates);
            Assert.Equal(0, report.BillsPaid);
            Assert.Equal(0, report.NeedingAction);
        }

        var partial = await ReportAsync(shop, second.ProviderPaymentId!);
        Assert.Equal(PaymentStatus.Pending, partial.Status);
        Assert.Equal("partially_paid", partial.RawStatus);

        // Day 2 (camt.054.001.08): the rest of bill 2, bill 3 with 5.00 too much, bill 1 a second time.
        await using (var day2 = Camt054ReaderTests.Sample("camt054-v08.xml"))
        {
            var report = await shop.ImportAsync(day2);
            Assert.Equal([QrBillReceiptOutcome.Paid, QrBillReceiptOutcome.Overpaid, QrBillReceiptOutcome.PaidTwice], report.Lines.Select(l => l.Outcome));
            Assert.Contains("5.00 CHF", report.Lines[1].Note, StringComparison.Ordinal);
            Assert.Equal(2, report.BillsPaid);
            Assert.Equal(2, report.NeedingAction);
        }

        await shop.DrainAsync();
        Assert.Equal(2, await shop.QueryAsync(db => db.Vouchers.CountAsync(v => v.OrderId == second.Id)));
        Assert.Equal(1, await shop.QueryAsync(db => db.Vouchers.CountAsync(v => v.OrderId == third.Id)));
        Assert.Equal(1, await shop.QueryAsync(db => db.Vouchers.CountAsync(v => v.OrderId == first.Id)));
        Assert.Equal("TX-20261202-0001", (await shop.QueryAsync(db => db.Orders.AsNoTracking().FirstAsync(o => o.Id == second.Id))).ProviderTransactionId);
        var paid = await ReportAsync(shop, third.ProviderPaymentId!);
        Assert.Equal(PaymentStatus.Confirmed, paid.Status);
        Assert.Equal(4500, paid.Amount); // the bill's amount: the excess is the merchant's to return, not Core's

        // What the merchant must sort out is kept: the unknown reference, the overpayment, the second payment.
        var todo = await shop.UseAsync<QrBillService, IReadOnlyList<QrBillReceiptLine>>(s => s.ListReceiptsNeedingActionAsync(shop.Owner, shop.MerchantId));
        Assert.Equal([QrBillReceiptOutcome.UnknownReference, QrBillReceiptOutcome.Overpaid, QrBillReceiptOutcome.PaidTwice], todo.Select(l => l.Outcome));

        // The customer sees the vouchers.
        var vouchers = await customer.GetStringAsync("/api/customer/vouchers");
        Assert.Equal(4, System.Text.Json.JsonDocument.Parse(vouchers).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task Only_the_merchants_owners_and_operators_may_import_or_confirm()
    {
        await using var shop = await QrBillShop.StartAsync();
        var stranger = Actor.Member(Guid.NewGuid());
        await using var file = Camt054ReaderTests.Sample("camt054-v04.xml");
        await Assert.ThrowsAsync<ForbiddenException>(() => shop.ImportAsync(file, stranger));
        await Assert.ThrowsAsync<ForbiddenException>(() => shop.UseAsync<QrBillService, QrBillReceiptLine>(s =>
            s.ConfirmReceiptAsync(Actor.Customer(Guid.NewGuid()), shop.MerchantId, "000000000000000000000000011", new Money(4500, "CHF"), "x")));

        file.Position = 0;
        var report = await shop.ImportAsync(file, Actor.Admin(Guid.NewGuid()));
        Assert.Equal(3, report.Lines.Count);
    }

    [Fact]
    public async Task A_payment_confirmed_by_hand_issues_the_vouchers_and_the_banks_record_of_it_later_counts_once()
    {
        await using var shop = await QrBillShop.StartAsync();
        var order = await shop.OrderDirectAsync(1);
        var bill = (await shop.UseAsync<QrBillService, QrBillView?>(s => s.GetBillAsync(order.ProviderPaymentId!)))!;

        var line = await shop.UseAsync<QrBillService, QrBillReceiptLine>(s => s.ConfirmReceiptAsync(shop.Owner, shop.MerchantId, bill.FormattedReference, new Money(4500, "CHF"), "ebanking-2026-12-01-1"));
        var replay = await shop.UseAsync<QrBillService, QrBillReceiptLine>(s => s.ConfirmReceiptAsync(shop.Owner, shop.MerchantId, bill.Reference, new Money(4500, "CHF"), "ebanking-2026-12-01-1"));
        Assert.Equal(QrBillReceiptOutcome.Paid, line.Outcome);
        Assert.True(replay.Duplicate);
        await shop.DrainAsync();
        Assert.Equal(OrderStatus.Paid, await StatusAsync(shop, order.Id));

        var camt = Camt054ReaderTests.Camt("08", $"""
            <Ntry><Amt Ccy="CHF">45.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><AcctSvcrRef>E-77</AcctSvcrRef>
              <NtryDtls><TxDtls><Refs><AcctSvcrRef>TX-77</AcctSvcrRef></Refs><Amt Ccy="CHF">45.00</Amt>
                <RmtInf><Strd><CdtrRefInf><Ref>{bill.Reference}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>
            """);
        var report = await shop.ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(camt)));
        Assert.Equal(QrBillReceiptOutcome.Reconciled, Assert.Single(report.Lines).Outcome);
        Assert.Equal(0, report.NeedingAction);
        Assert.Equal(1, await shop.QueryAsync(db => db.Vouchers.CountAsync(v => v.OrderId == order.Id)));
    }

    [Fact]
    public async Task A_payment_after_the_reservation_lapsed_is_reported_for_refund_and_not_applied()
    {
        await using var shop = await QrBillShop.StartAsync();
        var order = await shop.OrderDirectAsync(1);
        var bill = (await shop.UseAsync<QrBillService, QrBillView?>(s => s.GetBillAsync(order.ProviderPaymentId!)))!;

        // The reservation lapses: Core expires the order and cancels the checkout through the outbox.
        shop.Time.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal(1, await shop.UseAsync<PurchaseService, int>(p => p.ExpireReservationsAsync()));
        await shop.DrainAsync();
        Assert.Equal(QrBillStatus.Cancelled, (await shop.UseAsync<QrBillService, QrBillView?>(s => s.GetBillAsync(bill.Id)))!.Status);

        var camt = Camt054ReaderTests.Camt("04", $"""
            <Ntry><Amt Ccy="CHF">45.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><AcctSvcrRef>E-88</AcctSvcrRef>
              <NtryDtls><TxDtls><Amt Ccy="CHF">45.00</Amt><RmtInf><Strd><CdtrRefInf><Ref>{bill.Reference}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>
            """);
        var report = await shop.ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(camt)));
        Assert.Equal(QrBillReceiptOutcome.PaidAfterCancellation, Assert.Single(report.Lines).Outcome);
        Assert.Equal(1, report.NeedingAction);

        // Core, asked anyway (its polling job does this for lapsed orders), reads a cancelled bill: nothing is issued.
        Assert.Equal(PaymentApplication.NoChange, await shop.UseAsync<PurchaseService, PaymentApplication>(p => p.RefreshPaymentAsync(order.Id)));
        Assert.Equal(OrderStatus.Expired, await StatusAsync(shop, order.Id));
        Assert.Equal(0, await shop.QueryAsync(db => db.Vouchers.CountAsync()));
    }

    [Fact]
    public async Task With_late_payments_applied_Core_takes_the_stock_again_and_issues_the_vouchers()
    {
        await using var shop = await QrBillShop.StartAsync(o => o.ApplyPaymentsAfterCancellation = true);
        var order = await shop.OrderDirectAsync(1);
        var bill = (await shop.UseAsync<QrBillService, QrBillView?>(s => s.GetBillAsync(order.ProviderPaymentId!)))!;
        shop.Time.Advance(TimeSpan.FromMinutes(16));
        await shop.UseAsync<PurchaseService, int>(p => p.ExpireReservationsAsync());
        await shop.DrainAsync();

        var line = await shop.UseAsync<QrBillService, QrBillReceiptLine>(s => s.ConfirmReceiptAsync(shop.Owner, shop.MerchantId, bill.Reference, new Money(4500, "CHF"), "late-1"));
        Assert.Equal(QrBillReceiptOutcome.Paid, line.Outcome);
        await shop.DrainAsync();
        Assert.Equal(OrderStatus.Paid, await StatusAsync(shop, order.Id));
        Assert.Equal(1, await shop.QueryAsync(db => db.Vouchers.CountAsync(v => v.OrderId == order.Id)));
    }

    [Fact]
    public async Task A_refund_waits_for_the_merchant_to_transfer_it_and_then_completes_in_Core()
    {
        await using var shop = await QrBillShop.StartAsync();
        var order = await shop.OrderDirectAsync(2);
        var bill = (await shop.UseAsync<QrBillService, QrBillView?>(s => s.GetBillAsync(order.ProviderPaymentId!)))!;
        await shop.UseAsync<QrBillService, QrBillReceiptLine>(s => s.ConfirmReceiptAsync(shop.Owner, shop.MerchantId, bill.Reference, new Money(9000, "CHF"), "pay-1"));
        await shop.DrainAsync();
        var voucherId = await shop.QueryAsync(db => db.Vouchers.Where(v => v.OrderId == order.Id).Select(v => v.Id).FirstAsync());

        var refund = await shop.UseAsync<VoucherService, Refund>(v => v.RefundAsync(shop.Owner, voucherId, "Customer moved away"));
        await shop.DrainAsync();
        Assert.Equal(RefundStatus.Pending, await shop.QueryAsync(db => db.Refunds.Where(r => r.Id == refund.Id).Select(r => r.Status).FirstAsync()));
        var pending = Assert.Single(await shop.UseAsync<QrBillService, IReadOnlyList<QrBillRefundView>>(s => s.ListRefundsAsync(shop.Owner, shop.MerchantId)));
        Assert.Equal(refund.Id, pending.RefundId);
        Assert.Equal(new Money(4500, "CHF"), pending.Amount);
        Assert.Equal(PaymentStatus.RefundPending, (await ReportAsync(shop, bill.Id)).Status);

        // Not yet transferred: Core's refund job leaves it pending.
        Assert.Equal(0, await shop.UseAsync<PurchaseService, int>(p => p.CompletePendingRefundsAsync()));

        await shop.UseAsync<QrBillService, QrBillRefundView>(s => s.CompleteRefundAsync(shop.Owner, shop.MerchantId, refund.Id));
        var done = await shop.UseAsync<QrBillService, QrBillRefundView>(s => s.CompleteRefundAsync(shop.Owner, shop.MerchantId, refund.Id));
        Assert.Equal(QrBillRefundStatus.Completed, done.Status);
        Assert.Equal(PaymentStatus.PartiallyRefunded, (await ReportAsync(shop, bill.Id)).Status);
        Assert.Equal(1, await shop.UseAsync<PurchaseService, int>(p => p.CompletePendingRefundsAsync()));
        Assert.Equal(RefundStatus.Completed, await shop.QueryAsync(db => db.Refunds.Where(r => r.Id == refund.Id).Select(r => r.Status).FirstAsync()));
        Assert.Empty(await shop.UseAsync<QrBillService, IReadOnlyList<QrBillRefundView>>(s => s.ListRefundsAsync(shop.Owner, shop.MerchantId)));
    }

    private static Task<OrderStatus> StatusAsync(QrBillShop shop, Guid orderId) =>
        shop.QueryAsync(db => db.Orders.Where(o => o.Id == orderId).Select(o => o.Status).FirstAsync());

    private static Task<PaymentStatusReport> ReportAsync(QrBillShop shop, string billId) =>
        shop.UseAsync<PaymentProviders, PaymentStatusReport>(p => p.Get("qrbill").GetPaymentAsync(new PaymentAccountCredentials(QrBillShop.QrIban, ProviderTests.CreditorJson), billId));
}
