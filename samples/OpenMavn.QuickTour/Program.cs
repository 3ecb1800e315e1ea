// The OpenMavn quick tour: the six steps, in-process, against a fresh SQLite file with the built-in providers
// (sandbox payments, database ledger). Exits non-zero if any step does not end as it should.
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenMavn;
using OpenMavn.Core;
using OpenMavn.Core.Accounts;
using OpenMavn.Core.Campaigns;
using OpenMavn.Core.Customers;
using OpenMavn.Core.Exchanges;
using OpenMavn.Core.Gifts;
using OpenMavn.Core.Ledger;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Orders;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Persistence;
using OpenMavn.Core.Vouchers;
using OpenMavn.QuickTour;

var databasePath = Path.Combine(AppContext.BaseDirectory, "quicktour.db");
foreach (var file in new[] { databasePath, databasePath + "-wal", databasePath + "-shm" })
{
    File.Delete(file);
}

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, EnvironmentName = Environments.Development });
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Configuration["OpenMavn:Jobs:Enabled"] = "false"; // the tour drives the outbox itself, step by step
builder.Services.AddOpenMavn(builder.Configuration.GetSection("OpenMavn"))
    .AddSqliteStorage($"Data Source={databasePath}")
    .AddSandboxPayments();
var console = new ConsoleNotificationSender();
builder.Services.AddSingleton<INotificationSender>(console);

using var host = builder.Build();
await host.StartAsync();
var services = host.Services;
var failures = 0;

async Task<T> Use<TService, T>(Func<TService, Task<T>> work)
    where TService : notnull
{
    await using var scope = services.CreateAsyncScope();
    return await work(scope.ServiceProvider.GetRequiredService<TService>());
}

async Task Deliver() => await services.GetRequiredService<OutboxDispatcher>().DrainAsync();

void Check(bool ok, string what)
{
    Console.WriteLine(ok ? $"    ✓ {what}" : $"    ✗ {what}");
    failures += ok ? 0 : 1;
}

void Step(string title) => Console.WriteLine($"\n{title}");

try
{
    var owner = Actor.Member(Guid.NewGuid());
    var staff = Actor.Member(Guid.NewGuid());
    var admin = Actor.Admin(Guid.NewGuid());

    Step("1. An SME registers, is reviewed and connects its payment account");
    var merchant = await Use<MerchantService, Merchant>(s => s.RegisterAsync(owner, new RegisterMerchant("Café Sonne", "hallo@cafe-sonne.example.ch", "CH", "Europe/Zurich", "de")));
    await Use<MerchantService, bool>(async s => { await s.SubmitForReviewAsync(owner, merchant.Id); return true; });
    await Use<MerchantService, bool>(async s => { await s.ApproveAsync(admin, merchant.Id, "Documents complete."); return true; });
    await Use<MerchantService, bool>(async s => { await s.AddMemberAsync(owner, merchant.Id, staff.Id, "till@cafe-sonne.example.ch", MerchantRole.Staff); return true; });
    await Use<MerchantService, bool>(async s => { await s.ConnectPaymentAccountAsync(owner, merchant.Id, SandboxPaymentProvider.ProviderName, "cafe-sonne", "sandbox-secret"); return true; });
    var reviewed = await Use<MerchantService, Merchant>(s => s.GetAsync(owner, merchant.Id));
    Console.WriteLine($"    {reviewed.Name}: KYC {reviewed.KycStatus}, payment account {reviewed.PaymentAccount?.Provider}/{reviewed.PaymentAccount?.AccountId}");
    Check(reviewed.KycStatus == KycStatus.Approved && reviewed.PaymentAccount is not null, "merchant approved with a connected account");

    Step("2. The SME creates and publishes a campaign");
    var definition = new CampaignDefinition(
        [new CampaignText("de", "Kaffee-Guthaben CHF 50"), new CampaignText("en", "Coffee credit CHF 50"), new CampaignText("fr", "Crédit café CHF 50"), new CampaignText("it", "Credito caffè CHF 50")],
        "de", "CHF", FaceValue: 5000, Price: 4500, VoucherKind.StoredValue, Supply: 100, PerCustomerLimit: 5,
        SalesStartAt: null, SalesEndAt: null, ValidityKind.DaysAfterPurchase, ValidUntil: null, ValidityDays: 365,
        Transferable: true, Exchangeable: true);
    var coffee = await Use<CampaignService, Campaign>(s => s.CreateAsync(owner, merchant.Id, definition));
    await Use<CampaignService, bool>(async s => { await s.PublishAsync(owner, coffee.Id); return true; });
    var cake = await Use<CampaignService, Campaign>(s => s.CreateAsync(owner, merchant.Id, definition with
    {
        Texts = [new CampaignText("de", "Kuchen-Gutschein"), new CampaignText("en", "Cake voucher")],
        FaceValue = 1200, Price = 1200, Kind = VoucherKind.SingleUse,
    }));
    await Use<CampaignService, bool>(async s => { await s.PublishAsync(owner, cake.Id); return true; });
    var published = await Use<CampaignService, Campaign>(s => s.GetAsync(coffee.Id));
    Console.WriteLine($"    \"{published.Localize("en").Name}\": face value {published.FaceValueMoney}, price {published.PriceMoney}, supply {published.Supply}, {published.State}");
    Check(published.State == CampaignState.Published, "campaign published");

    Step("3. A customer buys two vouchers and pays through the payment gateway (sandbox)");
    var anna = Actor.Customer(Guid.NewGuid());
    await Use<CustomerService, Customer>(s => s.RegisterAsync(anna.Id, "anna@example.ch", "Anna", "de"));
    var order = await Use<PurchaseService, Order>(s => s.PlaceOrderAsync(anna, new PlaceOrder(coffee.Id, 2, "anna-order-1")));
    Console.WriteLine($"    order {order.Id}: {order.Total}, {order.Status}, pay at {order.CheckoutUrl}");
    var replay = await Use<PurchaseService, Order>(s => s.PlaceOrderAsync(anna, new PlaceOrder(coffee.Id, 2, "anna-order-1")));
    Check(replay.Id == order.Id, "retrying with the same idempotency key returns the same order");
    var applied = await services.GetRequiredService<SandboxPaymentProvider>().ConfirmAsync(order.ProviderPaymentId!);
    var duplicate = await services.GetRequiredService<SandboxPaymentProvider>().ConfirmAsync(order.ProviderPaymentId!);
    Console.WriteLine($"    payment confirmed: {applied}; the same confirmation again: {duplicate}");
    Check(applied == PaymentApplication.VouchersIssued && duplicate == PaymentApplication.NoChange, "vouchers issued exactly once");

    Step("4. The SME is paid (into its own payment account; OpenMavn keeps the books)");
    var balance = (await Use<MerchantAccountService, IReadOnlyList<MerchantBalance>>(s => s.GetBalancesAsync(owner, merchant.Id))).Single();
    Console.WriteLine($"    gross sales {new Money(balance.GrossSales, balance.Currency)}, held at the payment provider {new Money(balance.HeldAtPaymentProvider, balance.Currency)}, outstanding liability {new Money(balance.OutstandingLiability, balance.Currency)}");
    Check(balance.GrossSales == 9000 && balance.OutstandingLiability == 10000, "books show CHF 90.00 received and CHF 100.00 owed in vouchers");

    Step("5. The customer receives the digital vouchers (email and push through the outbox)");
    await Deliver();
    var mine = await Use<VoucherService, IReadOnlyList<Voucher>>(s => s.ListMineAsync(anna));
    foreach (var v in mine)
    {
        Console.WriteLine($"    voucher {v.DisplayCode}: {v.BalanceMoney}, valid until {v.ExpiresAt:yyyy-MM-dd HH:mm}Z");
    }

    Check(mine.Count == 2 && console.Sent.Any(m => m.Type == NotificationTypes.VoucherPurchased), "two vouchers issued and the purchase message sent");

    Step("6a. One voucher is redeemed at the shop (preview, then confirm)");
    var first = mine[0];
    var preview = await Use<RedemptionService, RedemptionPreview>(s => s.PreviewAsync(staff, merchant.Id, first.DisplayCode.ToLowerInvariant(), 2000, "de"));
    Console.WriteLine($"    preview: {preview.CampaignName}, redeem {preview.Amount}, {preview.BalanceBefore} → {preview.BalanceAfter}");
    var receipt = await Use<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(staff, merchant.Id, first.DisplayCode, 2000, "till-1-receipt-0001"));
    Console.WriteLine($"    redeemed {receipt.Amount}, balance left {receipt.BalanceAfter}");
    Check(receipt.BalanceAfter.Amount == 3000, "stored-value voucher redeemed in part");
    var again = await Use<RedemptionService, RedemptionReceipt>(s => s.RedeemAsync(staff, merchant.Id, first.DisplayCode, 2000, "till-1-receipt-0001"));
    Check(again.Replayed && again.RedemptionId == receipt.RedemptionId, "the till's retry is answered with the same receipt, not a second redemption");

    Step("6b. The other voucher is gifted to a friend without an account, who signs up and claims it");
    var second = mine[1];
    var gift = await Use<GiftService, Gift>(s => s.SendAsync(anna, new SendGift(second.Id, "ben@example.ch", "Alles Gute!")));
    await Deliver();
    var claimUrl = console.Sent.Last(m => m.Type == NotificationTypes.GiftReceived).Model["claimUrl"];
    var token = Uri.UnescapeDataString(claimUrl[(claimUrl.IndexOf("token=", StringComparison.Ordinal) + 6)..]);
    Console.WriteLine($"    gift {gift.Status}; Ben's email holds {claimUrl[..Math.Min(60, claimUrl.Length)]}…");
    var ben = Actor.Customer(Guid.NewGuid());
    await Use<CustomerService, Customer>(s => s.RegisterAsync(ben.Id, "ben@example.ch", "Ben", "en"));
    var claimed = await Use<GiftService, Voucher>(s => s.ClaimAsync(ben, token));
    Console.WriteLine($"    Ben owns it now with a fresh code {claimed.DisplayCode} (Anna's copy {second.DisplayCode} is worthless)");
    Check(claimed.OwnerId == ben.Id && claimed.Code != second.Code, "gift claimed, code rotated");

    Step("6c. Ben exchanges the gifted voucher with Carla for her cake voucher");
    var carla = Actor.Customer(Guid.NewGuid());
    await Use<CustomerService, Customer>(s => s.RegisterAsync(carla.Id, "carla@example.ch", "Carla", "it"));
    var cakeOrder = await Use<PurchaseService, Order>(s => s.PlaceOrderAsync(carla, new PlaceOrder(cake.Id, 1, "carla-cake")));
    await services.GetRequiredService<SandboxPaymentProvider>().ConfirmAsync(cakeOrder.ProviderPaymentId!);
    var carlasVoucher = (await Use<VoucherService, IReadOnlyList<Voucher>>(s => s.ListMineAsync(carla))).Single();
    var offer = await Use<ExchangeService, ExchangeOffer>(s => s.OfferAsync(ben, new OfferExchange(claimed.Id, carlasVoucher.Id, null)));
    var accepted = await Use<ExchangeService, ExchangeOffer>(s => s.AcceptAsync(carla, offer.Id));
    var benNow = await Use<VoucherService, IReadOnlyList<Voucher>>(s => s.ListMineAsync(ben));
    var carlaNow = await Use<VoucherService, IReadOnlyList<Voucher>>(s => s.ListMineAsync(carla));
    Console.WriteLine($"    offer {accepted.Status}: Ben holds {string.Join(", ", benNow.Select(v => v.BalanceMoney))}; Carla holds {string.Join(", ", carlaNow.Select(v => v.BalanceMoney))}");
    Check(benNow.Single().Id == carlasVoucher.Id && carlaNow.Single().Id == claimed.Id, "both vouchers changed hands in one transaction");

    Step("Afterwards: history, ledger and books");
    await Deliver();
    var detail = await Use<VoucherService, VoucherDetail>(s => s.GetAsync(admin, second.Id));
    Console.WriteLine("    history of the gifted voucher: " + string.Join(" → ", detail.Activity.Select(a => a.Kind)));
    var chain = await services.GetRequiredService<DatabaseVoucherLedger>().VerifyAsync();
    Console.WriteLine($"    database ledger: {chain.Records} records, intact: {chain.IsIntact}, head {chain.HeadHash[..16]}…");
    Check(chain.IsIntact && detail.LedgerReceipts.All(r => r.Status == LedgerReceiptStatus.Confirmed), "hash chain verifies end to end");
    var problems = await Use<MerchantAccountService, IReadOnlyList<string>>(s => s.VerifyAsync(merchant.Id));
    var final = (await Use<MerchantAccountService, IReadOnlyList<MerchantBalance>>(s => s.GetBalancesAsync(owner, merchant.Id))).Single();
    Console.WriteLine($"    merchant: received {new Money(final.GrossSales, "CHF")}, redeemed {new Money(final.Redeemed, "CHF")}, still owes {new Money(final.OutstandingLiability, "CHF")} in vouchers");
    Check(problems.Count == 0 && final.OutstandingLiability == 9200, "books balance and match the vouchers to the cent");
    var pending = await Use<OpenMavnDbContext, int>(db => db.OutboxMessages.CountAsync(m => m.ProcessedAt == null));
    Check(pending == 0, "every outbox message delivered");
}
catch (Exception ex)
{
    Console.Error.WriteLine($"\nThe tour stopped: {ex.GetType().Name}: {ex.Message}");
    failures++;
}

await host.StopAsync();
Console.WriteLine(failures == 0 ? "\nQuick tour completed: every step succeeded." : $"\nQuick tour FAILED: {failures} step(s) did not succeed.");
return failures == 0 ? 0 : 1;
