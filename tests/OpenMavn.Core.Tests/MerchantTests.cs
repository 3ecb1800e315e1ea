using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenMavn.Core.Merchants;
using OpenMavn.Core.Notifications;
using OpenMavn.Core.Outbox;
using OpenMavn.Core.Payments;
using OpenMavn.Core.Security;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Core.Tests;

public sealed class MerchantTests
{
    private static readonly Actor Admin = Actor.Admin(Guid.NewGuid());

    [Fact]
    public async Task Registration_with_every_field_wrong_names_each_field_in_one_validation_error()
    {
        await using var host = await TestHost.StartAsync();
        var owner = Actor.Member(Guid.NewGuid());

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => host.RunAsync<MerchantService, Merchant>(
            s => s.RegisterAsync(owner, new RegisterMerchant("   ", "not-an-email", "Switzerland", "Mars/Olympus_Mons", "deutsch"))));

        Assert.Equal(["country", "email", "language", "name", "timeZoneId"], error.Errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("validation_failed", error.Code);
        Assert.Equal(0, await host.QueryAsync(db => db.Merchants.CountAsync()));
        Assert.Equal(0, await host.QueryAsync(db => db.MerchantMembers.CountAsync()));
    }

    [Theory]
    [InlineData("name", "")]
    [InlineData("name", "TOO_LONG")]
    [InlineData("email", "owner@localhost")]
    [InlineData("email", "Sonne <owner@sonne.example.ch>")]
    [InlineData("email", "")]
    [InlineData("country", "C1")]
    [InlineData("country", "CHE")]
    [InlineData("timeZoneId", "Europe/Nowhere")]
    [InlineData("timeZoneId", "")]
    [InlineData("language", "d")]
    [InlineData("language", "")]
    public async Task Registration_with_one_bad_field_names_exactly_that_field(string field, string value)
    {
        await using var host = await TestHost.StartAsync();
        var good = MerchantKit.Registration();
        if (value == "TOO_LONG")
        {
            value = new string('x', 201);
        }

        var command = field switch
        {
            "name" => good with { Name = value },
            "email" => good with { Email = value },
            "country" => good with { Country = value },
            "timeZoneId" => good with { TimeZoneId = value },
            _ => good with { Language = value },
        };

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => host.RunAsync<MerchantService, Merchant>(
            s => s.RegisterAsync(Actor.Member(Guid.NewGuid()), command)));

        Assert.Equal([field], error.Errors.Keys);
        Assert.Equal(0, await host.QueryAsync(db => db.Merchants.CountAsync()));
    }

    [Fact]
    public async Task Registration_normalizes_input_and_makes_the_caller_the_pending_owner()
    {
        await using var host = await TestHost.StartAsync();
        var owner = Actor.Member(Guid.NewGuid());

        var registered = await host.RunAsync<MerchantService, Merchant>(
            s => s.RegisterAsync(owner, new RegisterMerchant("  Café Sonne  ", "Owner@Sonne.Example.CH", "ch", "Europe/Zurich", "de-CH")));
        var merchant = await host.RunAsync<MerchantService, Merchant>(s => s.GetAsync(owner, registered.Id));

        Assert.Equal("Café Sonne", merchant.Name);
        Assert.Equal("owner@sonne.example.ch", merchant.Email);
        Assert.Equal("CH", merchant.Country);
        Assert.Equal("de", merchant.Language);
        Assert.Equal("Europe/Zurich", merchant.TimeZoneId);
        Assert.Equal(KycStatus.Pending, merchant.KycStatus);
        Assert.Equal(TestHost.Start, merchant.CreatedAt);
        var member = Assert.Single(merchant.Members);
        Assert.Equal(owner.Id, member.UserId);
        Assert.Equal(MerchantRole.Owner, member.Role);
        Assert.Null(merchant.PaymentAccount);
    }

    [Fact]
    public async Task Only_a_signed_in_user_can_register_a_merchant()
    {
        await using var host = await TestHost.StartAsync();

        foreach (var actor in new[] { Actor.System, Admin, Actor.Member(Guid.Empty), new Actor(ActorKind.ApiKey, Guid.NewGuid()) })
        {
            var error = await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantService, Merchant>(s => s.RegisterAsync(actor, MerchantKit.Registration())));
            Assert.Equal("merchant.register_forbidden", error.Code);
        }

        Assert.Equal(0, await host.QueryAsync(db => db.Merchants.CountAsync()));
    }

    [Fact]
    public async Task Kyc_goes_from_pending_through_review_to_approved_and_keeps_the_history()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();

        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner, merchantId));
        Assert.Equal(KycStatus.InReview, await host.KycAsync(merchantId));
        host.Time.Advance(TimeSpan.FromHours(3));
        await host.RunAsync<MerchantService>(s => s.ApproveAsync(Admin, merchantId, "Documents complete"));

        Assert.Equal(KycStatus.Approved, await host.KycAsync(merchantId));
        var history = await host.RunAsync<MerchantService, IReadOnlyList<KycReview>>(s => s.GetKycHistoryAsync(owner, merchantId));
        Assert.Collection(
            history,
            r =>
            {
                Assert.Equal((KycStatus.Pending, KycStatus.InReview), (r.From, r.To));
                Assert.Equal(owner.ToString(), r.Actor);
                Assert.Null(r.Comment);
                Assert.Equal(TestHost.Start, r.At);
            },
            r =>
            {
                Assert.Equal((KycStatus.InReview, KycStatus.Approved), (r.From, r.To));
                Assert.Equal(Admin.ToString(), r.Actor);
                Assert.Equal("Documents complete", r.Comment);
                Assert.Equal(TestHost.Start.AddHours(3), r.At);
            });

        // The decision (not the owner's own submission) is announced to the merchant.
        await host.Outbox.DrainAsync();
        var decided = Assert.Single(host.Sent.OfType(NotificationTypes.MerchantKycDecided));
        Assert.Equal("Approved", decided.Model["status"]);
        Assert.Equal(MerchantKit.Registration().Email, decided.Recipient.Email);
        Assert.Equal("de", decided.Language);
    }

    [Fact]
    public async Task Kyc_asks_for_data_takes_a_resubmission_and_then_rejects_with_comments()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();

        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner, merchantId));
        await host.RunAsync<MerchantService>(s => s.RequestDataAsync(Admin, merchantId, "  Please upload the trade register extract.  "));
        var waiting = await host.RunAsync<MerchantService, Merchant>(s => s.GetAsync(owner, merchantId));
        Assert.Equal(KycStatus.RequiresData, waiting.KycStatus);
        Assert.Equal("Please upload the trade register extract.", waiting.KycComment);

        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner, merchantId));
        Assert.Equal(KycStatus.InReview, await host.KycAsync(merchantId));
        await host.RunAsync<MerchantService>(s => s.RejectAsync(Admin, merchantId, "The register extract does not match the owner."));

        var rejected = await host.RunAsync<MerchantService, Merchant>(s => s.GetAsync(owner, merchantId));
        Assert.Equal(KycStatus.Rejected, rejected.KycStatus);
        Assert.Equal("The register extract does not match the owner.", rejected.KycComment);
        var history = await host.QueryAsync(db => db.KycReviews.AsNoTracking().Where(r => r.MerchantId == merchantId).OrderBy(r => r.Id).ToListAsync());
        Assert.Equal(
            [
                (KycStatus.Pending, KycStatus.InReview, (string?)null),
                (KycStatus.InReview, KycStatus.RequiresData, "Please upload the trade register extract."),
                (KycStatus.RequiresData, KycStatus.InReview, null),
                (KycStatus.InReview, KycStatus.Rejected, "The register extract does not match the owner."),
            ],
            history.Select(r => (r.From, r.To, r.Comment)));

        await host.Outbox.DrainAsync();
        Assert.Equal(["RequiresData", "Rejected"], host.Sent.OfType(NotificationTypes.MerchantKycDecided).Select(m => m.Model["status"]));
    }

    [Fact]
    public async Task Two_kyc_decisions_in_the_same_clock_tick_are_both_recorded_and_announced()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();

        // The clock does not move: asking for data, the resubmission and the approval share one instant.
        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner, merchantId));
        await host.RunAsync<MerchantService>(s => s.RequestDataAsync(Admin, merchantId, "Please add the register extract."));
        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner, merchantId));
        await host.RunAsync<MerchantService>(s => s.ApproveAsync(Admin, merchantId));

        Assert.Equal(KycStatus.Approved, await host.KycAsync(merchantId));
        Assert.Equal(4, await host.QueryAsync(db => db.KycReviews.CountAsync()));
        await host.Outbox.DrainAsync();
        Assert.Equal(["RequiresData", "Approved"], host.Sent.OfType(NotificationTypes.MerchantKycDecided).Select(m => m.Model["status"]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    [InlineData("TOO_LONG")]
    public async Task Rejecting_or_asking_for_data_without_a_proper_comment_is_refused_and_changes_nothing(string? comment)
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();
        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner, merchantId));
        comment = comment == "TOO_LONG" ? new string('c', 2001) : comment;

        var reject = await Assert.ThrowsAsync<ValidationFailedException>(() => host.RunAsync<MerchantService>(s => s.RejectAsync(Admin, merchantId, comment!)));
        var request = await Assert.ThrowsAsync<ValidationFailedException>(() => host.RunAsync<MerchantService>(s => s.RequestDataAsync(Admin, merchantId, comment!)));

        Assert.Equal(["comment"], reject.Errors.Keys);
        Assert.Equal(["comment"], request.Errors.Keys);
        Assert.Equal(KycStatus.InReview, await host.KycAsync(merchantId));
        Assert.Equal(1, await host.QueryAsync(db => db.KycReviews.CountAsync()));
    }

    [Fact]
    public async Task Invalid_kyc_transitions_are_conflicts_and_change_nothing()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();

        // Pending: nothing to decide yet.
        await host.AssertKycConflictAsync(s => s.ApproveAsync(Admin, merchantId));
        await host.AssertKycConflictAsync(s => s.RejectAsync(Admin, merchantId, "no"));
        await host.AssertKycConflictAsync(s => s.RequestDataAsync(Admin, merchantId, "more"));
        Assert.Equal(KycStatus.Pending, await host.KycAsync(merchantId));

        // InReview: cannot be submitted twice.
        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner, merchantId));
        await host.AssertKycConflictAsync(s => s.SubmitForReviewAsync(owner, merchantId));

        // Approved: final.
        await host.RunAsync<MerchantService>(s => s.ApproveAsync(Admin, merchantId));
        await host.AssertKycConflictAsync(s => s.SubmitForReviewAsync(owner, merchantId));
        await host.AssertKycConflictAsync(s => s.ApproveAsync(Admin, merchantId));
        await host.AssertKycConflictAsync(s => s.RejectAsync(Admin, merchantId, "changed my mind"));
        await host.AssertKycConflictAsync(s => s.RequestDataAsync(Admin, merchantId, "more"));
        Assert.Equal(KycStatus.Approved, await host.KycAsync(merchantId));

        // Rejected: final.
        var (owner2, rejectedId) = await host.RegisterMerchantAsync();
        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner2, rejectedId));
        await host.RunAsync<MerchantService>(s => s.RejectAsync(Admin, rejectedId, "fraud"));
        await host.AssertKycConflictAsync(s => s.SubmitForReviewAsync(owner2, rejectedId));
        await host.AssertKycConflictAsync(s => s.ApproveAsync(Admin, rejectedId));
        await host.AssertKycConflictAsync(s => s.RequestDataAsync(Admin, rejectedId, "more"));
        Assert.Equal(KycStatus.Rejected, await host.KycAsync(rejectedId));

        // RequiresData: the operator waits for the merchant.
        var (owner3, waitingId) = await host.RegisterMerchantAsync();
        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner3, waitingId));
        await host.RunAsync<MerchantService>(s => s.RequestDataAsync(Admin, waitingId, "more"));
        await host.AssertKycConflictAsync(s => s.ApproveAsync(Admin, waitingId));
        await host.AssertKycConflictAsync(s => s.RejectAsync(Admin, waitingId, "no"));
        Assert.Equal(KycStatus.RequiresData, await host.KycAsync(waitingId));

        Assert.Equal(2 + 2 + 2, await host.QueryAsync(db => db.KycReviews.CountAsync()));
    }

    [Fact]
    public async Task Only_platform_operators_decide_on_kyc()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();
        var staff = Actor.Member(Guid.NewGuid());
        await host.RunAsync<MerchantService>(s => s.AddMemberAsync(owner, merchantId, staff.Id, "staff@sonne.example.ch", MerchantRole.Staff));
        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner, merchantId));

        foreach (var actor in new[] { owner, staff, Actor.Customer(Guid.NewGuid()), Actor.System })
        {
            var approve = await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantService>(s => s.ApproveAsync(actor, merchantId)));
            Assert.Equal("admin.required", approve.Code);
            await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantService>(s => s.RejectAsync(actor, merchantId, "no")));
            await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantService>(s => s.RequestDataAsync(actor, merchantId, "more")));
        }

        Assert.Equal(KycStatus.InReview, await host.KycAsync(merchantId));
        Assert.Equal(1, await host.QueryAsync(db => db.KycReviews.CountAsync()));
    }

    [Fact]
    public async Task Only_an_owner_submits_for_review_and_reads_the_kyc_history()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();
        var staff = Actor.Member(Guid.NewGuid());
        await host.RunAsync<MerchantService>(s => s.AddMemberAsync(owner, merchantId, staff.Id, "staff@sonne.example.ch", MerchantRole.Staff));

        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(staff, merchantId)));
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(Actor.Customer(owner.Id), merchantId)));
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantService, IReadOnlyList<KycReview>>(s => s.GetKycHistoryAsync(staff, merchantId)));

        Assert.Equal(KycStatus.Pending, await host.KycAsync(merchantId));
    }

    [Fact]
    public async Task An_owner_adds_staff_who_can_read_the_merchant_but_not_manage_members()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();
        var staff = Actor.Member(Guid.NewGuid());

        await host.RunAsync<MerchantService>(s => s.AddMemberAsync(owner, merchantId, staff.Id, " Staff@Sonne.Example.CH ", MerchantRole.Staff));

        var seenByStaff = await host.RunAsync<MerchantService, Merchant>(s => s.GetAsync(staff, merchantId));
        var member = Assert.Single(seenByStaff.Members, m => m.UserId == staff.Id);
        Assert.Equal(MerchantRole.Staff, member.Role);
        Assert.Equal("staff@sonne.example.ch", member.Email);

        var stranger = Guid.NewGuid();
        var add = await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantService>(s => s.AddMemberAsync(staff, merchantId, stranger, "x@example.ch", MerchantRole.Staff)));
        Assert.Equal("merchant.forbidden", add.Code);
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantService>(s => s.AddMemberAsync(staff, merchantId, staff.Id, "staff@sonne.example.ch", MerchantRole.Owner)));
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantService>(s => s.RemoveMemberAsync(staff, merchantId, owner.Id)));
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantService>(s => s.ConnectPaymentAccountAsync(staff, merchantId, "sandbox", "acct", "sk_staff")));

        var members = await host.QueryAsync(db => db.MerchantMembers.AsNoTracking().Where(m => m.MerchantId == merchantId).ToListAsync());
        Assert.Equal(2, members.Count);
        Assert.Equal(MerchantRole.Staff, members.Single(m => m.UserId == staff.Id).Role);
        Assert.Null(await host.QueryAsync(db => db.MerchantPaymentAccounts.FirstOrDefaultAsync()));
    }

    [Fact]
    public async Task Adding_a_member_validates_the_input()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => host.RunAsync<MerchantService>(s => s.AddMemberAsync(owner, merchantId, Guid.Empty, "nope", (MerchantRole)7)));

        Assert.Equal(["email", "role", "userId"], error.Errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(1, await host.QueryAsync(db => db.MerchantMembers.CountAsync()));
    }

    [Fact]
    public async Task The_last_owner_can_be_neither_removed_nor_demoted()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();

        var remove = await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync<MerchantService>(s => s.RemoveMemberAsync(owner, merchantId, owner.Id)));
        var demote = await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync<MerchantService>(s => s.AddMemberAsync(owner, merchantId, owner.Id, "owner@sonne.example.ch", MerchantRole.Staff)));

        Assert.Equal("merchant.last_owner", remove.Code);
        Assert.Equal("merchant.last_owner", demote.Code);
        var only = await host.QueryAsync(db => db.MerchantMembers.AsNoTracking().SingleAsync(m => m.MerchantId == merchantId));
        Assert.Equal((owner.Id, MerchantRole.Owner), (only.UserId, only.Role));

        // With a second owner, the first may leave; the second then is the last one.
        var second = Actor.Member(Guid.NewGuid());
        await host.RunAsync<MerchantService>(s => s.AddMemberAsync(owner, merchantId, second.Id, "second@sonne.example.ch", MerchantRole.Owner));
        await host.RunAsync<MerchantService>(s => s.RemoveMemberAsync(second, merchantId, owner.Id));
        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantService, Merchant>(s => s.GetAsync(owner, merchantId)));
        var last = await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync<MerchantService>(s => s.RemoveMemberAsync(second, merchantId, second.Id)));
        Assert.Equal("merchant.last_owner", last.Code);
    }

    [Fact]
    public async Task Owners_removing_or_demoting_each_other_at_the_same_time_always_leave_an_owner()
    {
        await using var host = await TestHost.StartAsync();
        for (var round = 0; round < 5; round++)
        {
            var (first, merchantId) = await host.RegisterMerchantAsync();
            var owners = new List<Actor> { first };
            for (var i = 0; i < 5; i++)
            {
                var next = Actor.Member(Guid.NewGuid());
                await host.RunAsync<MerchantService>(s => s.AddMemberAsync(first, merchantId, next.Id, $"owner{i}@sonne.example.ch", MerchantRole.Owner));
                owners.Add(next);
            }

            // Every owner removes (or, every other one, demotes) the next one, all at once.
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var attempts = owners.Select((actor, i) => Task.Run(async () =>
            {
                await gate.Task;
                var target = owners[(i + 1) % owners.Count].Id;
                try
                {
                    await host.RunAsync<MerchantService>(s => i % 2 == 0
                        ? s.RemoveMemberAsync(actor, merchantId, target)
                        : s.AddMemberAsync(actor, merchantId, target, "demoted@sonne.example.ch", MerchantRole.Staff));
                    return "done";
                }
                catch (OpenMavnException ex)
                {
                    return ex.Code;
                }
            })).ToList();
            gate.SetResult();
            var outcomes = await Task.WhenAll(attempts);

            Assert.All(outcomes, o => Assert.Contains(o, new[] { "done", "merchant.last_owner", "merchant.forbidden", "merchant.member_not_found" }));
            Assert.Contains("done", outcomes);
            var remaining = await host.QueryAsync(db => db.MerchantMembers.CountAsync(m => m.MerchantId == merchantId && m.Role == MerchantRole.Owner));
            Assert.True(remaining >= 1, $"round {round}: no owner left ({string.Join(", ", outcomes)})");
        }
    }

    [Fact]
    public async Task Removing_staff_works_and_removing_a_stranger_is_not_found()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();
        var staff = Actor.Member(Guid.NewGuid());
        await host.RunAsync<MerchantService>(s => s.AddMemberAsync(owner, merchantId, staff.Id, "staff@sonne.example.ch", MerchantRole.Staff));

        await host.RunAsync<MerchantService>(s => s.RemoveMemberAsync(owner, merchantId, staff.Id));

        await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync<MerchantService, Merchant>(s => s.GetAsync(staff, merchantId)));
        var missing = await Assert.ThrowsAsync<NotFoundException>(() => host.RunAsync<MerchantService>(s => s.RemoveMemberAsync(owner, merchantId, staff.Id)));
        Assert.Equal("merchant.member_not_found", missing.Code);
    }

    [Fact]
    public async Task An_owner_of_one_merchant_can_neither_read_nor_act_on_another()
    {
        await using var host = await TestHost.StartAsync();
        var (ownerA, merchantA) = await host.RegisterMerchantAsync();
        var (ownerB, merchantB) = await host.RegisterMerchantAsync();
        var intruder = Guid.NewGuid();

        async Task Forbidden(Func<MerchantService, Task> attempt)
        {
            var error = await Assert.ThrowsAsync<ForbiddenException>(() => host.RunAsync(attempt));
            Assert.Equal("merchant.forbidden", error.Code);
        }

        await Forbidden(s => s.GetAsync(ownerA, merchantB));
        await Forbidden(s => s.GetKycHistoryAsync(ownerA, merchantB));
        await Forbidden(s => s.SubmitForReviewAsync(ownerA, merchantB));
        await Forbidden(s => s.AddMemberAsync(ownerA, merchantB, intruder, "intruder@example.ch", MerchantRole.Owner));
        await Forbidden(s => s.AddMemberAsync(ownerA, merchantB, ownerA.Id, "a@example.ch", MerchantRole.Owner));
        await Forbidden(s => s.RemoveMemberAsync(ownerA, merchantB, ownerB.Id));
        await Forbidden(s => s.ConnectPaymentAccountAsync(ownerA, merchantB, "sandbox", "hijack", "sk_hijack"));
        await Forbidden(s => s.GetAsync(Actor.Customer(ownerB.Id), merchantB));

        var b = await host.RunAsync<MerchantService, Merchant>(s => s.GetAsync(ownerB, merchantB));
        Assert.Equal([ownerB.Id], b.Members.Select(m => m.UserId));
        Assert.Null(b.PaymentAccount);
        Assert.Equal(KycStatus.Pending, b.KycStatus);
        Assert.NotEqual(merchantA, merchantB);
    }

    [Fact]
    public async Task An_operator_reads_any_merchant_and_an_unknown_merchant_is_not_found()
    {
        await using var host = await TestHost.StartAsync();
        var (_, merchantId) = await host.RegisterMerchantAsync();

        var merchant = await host.RunAsync<MerchantService, Merchant>(s => s.GetAsync(Admin, merchantId));
        var missing = await Assert.ThrowsAsync<NotFoundException>(() => host.RunAsync<MerchantService, Merchant>(s => s.GetAsync(Admin, Guid.NewGuid())));

        Assert.Equal(merchantId, merchant.Id);
        Assert.Equal("merchant.not_found", missing.Code);
    }

    [Fact]
    public async Task Connecting_the_sandbox_account_stores_the_secret_encrypted_and_it_round_trips()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();
        const string secret = "sk_test_Zm9vYmFyYmF6cXV4";
        host.Time.Advance(TimeSpan.FromMinutes(5));

        await host.RunAsync<MerchantService>(s => s.ConnectPaymentAccountAsync(owner, merchantId, "SANDBOX", "  cafe-sonne  ", secret));

        var account = await host.QueryAsync(db => db.MerchantPaymentAccounts.AsNoTracking().SingleAsync(a => a.MerchantId == merchantId));
        Assert.Equal(SandboxPaymentProvider.ProviderName, account.Provider);
        Assert.Equal("cafe-sonne", account.AccountId);
        Assert.Equal(TestHost.Start.AddMinutes(5), account.VerifiedAt);
        Assert.NotEqual(secret, account.ProtectedSecret);
        Assert.DoesNotContain(secret, account.ProtectedSecret, StringComparison.Ordinal);
        Assert.DoesNotContain("Zm9vYmFy", account.ProtectedSecret, StringComparison.Ordinal);
        Assert.Equal(secret, host.Services.GetRequiredService<SecretProtector>().Unprotect(account.ProtectedSecret));

        // Not in the database file either (main file and write-ahead log), in any encoding SQLite might use.
        var raw = MerchantKit.ReadDatabaseBytes(host);
        Assert.Equal(-1, raw.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)));
        Assert.Equal(-1, raw.AsSpan().IndexOf(Encoding.Unicode.GetBytes(secret)));

        // Read back through the API, it is still the encrypted form.
        var merchant = await host.RunAsync<MerchantService, Merchant>(s => s.GetAsync(owner, merchantId));
        Assert.Equal(account.ProtectedSecret, merchant.PaymentAccount!.ProtectedSecret);
    }

    [Fact]
    public async Task Reconnecting_replaces_the_secret_in_the_same_account()
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();
        await host.RunAsync<MerchantService>(s => s.ConnectPaymentAccountAsync(owner, merchantId, "sandbox", "old", "sk_old_secret"));
        var first = await host.QueryAsync(db => db.MerchantPaymentAccounts.AsNoTracking().SingleAsync());

        await host.RunAsync<MerchantService>(s => s.ConnectPaymentAccountAsync(owner, merchantId, "sandbox", "new", "sk_new_secret"));

        var second = await host.QueryAsync(db => db.MerchantPaymentAccounts.AsNoTracking().SingleAsync());
        Assert.Equal("new", second.AccountId);
        Assert.NotEqual(first.ProtectedSecret, second.ProtectedSecret);
        Assert.Equal("sk_new_secret", host.Services.GetRequiredService<SecretProtector>().Unprotect(second.ProtectedSecret));
    }

    [Theory]
    [InlineData("sandbox", "acct", "", "secret")]
    [InlineData("sandbox", "acct", "   ", "secret")] // the provider refuses blank credentials
    [InlineData("sandbox", "", "sk_ok", "accountId")]
    [InlineData("stripe", "acct", "sk_ok", "provider")]
    [InlineData("", "acct", "sk_ok", "provider")]
    public async Task Bad_payment_account_input_names_the_field_and_stores_nothing(string provider, string accountId, string secret, string field)
    {
        await using var host = await TestHost.StartAsync();
        var (owner, merchantId) = await host.RegisterMerchantAsync();

        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => host.RunAsync<MerchantService>(s => s.ConnectPaymentAccountAsync(owner, merchantId, provider, accountId, secret)));

        Assert.Equal([field], error.Errors.Keys);
        if (field == "provider")
        {
            Assert.Contains("sandbox", error.Errors["provider"].Single(), StringComparison.Ordinal);
        }

        Assert.Equal(0, await host.QueryAsync(db => db.MerchantPaymentAccounts.CountAsync()));
    }

    [Fact]
    public async Task The_payment_secret_never_reaches_a_log_line_or_the_outbox()
    {
        await using var host = await TestHost.StartAsync();
        var secret = "sk_live_" + Guid.NewGuid().ToString("N");
        var (owner, merchantId) = await host.RegisterMerchantAsync();
        await host.RunAsync<MerchantService>(s => s.SubmitForReviewAsync(owner, merchantId));
        await host.RunAsync<MerchantService>(s => s.ApproveAsync(Admin, merchantId));
        await Assert.ThrowsAsync<ValidationFailedException>(() => host.RunAsync<MerchantService>(s => s.ConnectPaymentAccountAsync(owner, merchantId, "sandbox", "acct-sonne", " ")));
        await host.RunAsync<MerchantService>(s => s.ConnectPaymentAccountAsync(owner, merchantId, "sandbox", "acct-sonne", secret));
        var campaign = await host.CreatePublishedCampaignAsync(owner, merchantId);
        var customer = await host.CreateCustomerAsync();

        // Buy, pay, refund: every step that needs the credentials.
        var (order, vouchers) = await host.BuyAsync(customer, campaign.Id, 2);
        Assert.Equal(Orders.OrderStatus.Paid, order.Status);
        await host.RunAsync<VoucherService, Refund>(s => s.RefundAsync(owner, vouchers[0].Id, "Customer changed their mind"));
        await host.Outbox.DrainAsync();
        var refund = await host.QueryAsync(db => db.Refunds.AsNoTracking().SingleAsync());
        Assert.Equal(RefundStatus.Completed, refund.Status);
        var payment = await host.QueryAsync(db => db.SandboxPayments.AsNoTracking().SingleAsync());
        Assert.Equal(4500, payment.RefundedAmount);

        var lines = host.Logs.Lines;
        Assert.Contains(lines, l => l.Contains("acct-sonne", StringComparison.Ordinal)); // the logs are really captured
        Assert.Contains(lines, l => l.Contains(order.Id.ToString(), StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains(secret[8..], StringComparison.Ordinal));
        var payloads = await host.QueryAsync(db => db.OutboxMessages.AsNoTracking().Select(m => m.Payload).ToListAsync());
        Assert.NotEmpty(payloads);
        Assert.DoesNotContain(payloads, p => p.Contains(secret[8..], StringComparison.Ordinal));
        Assert.DoesNotContain(host.Sent.Messages, m => m.Model.Values.Any(v => v.Contains(secret[8..], StringComparison.Ordinal)));
    }
}

/// <summary>Helpers for the merchant, campaign and time-zone tests.</summary>
internal static class MerchantKit
{
    public static RegisterMerchant Registration(string timeZone = "Europe/Zurich") =>
        new("Café Sonne", "owner@sonne.example.ch", "CH", timeZone, "de");

    /// <summary>Registers a merchant (KYC pending, no payment account).</summary>
    public static async Task<(Actor Owner, Guid MerchantId)> RegisterMerchantAsync(this TestHost host, string timeZone = "Europe/Zurich")
    {
        var owner = Actor.Member(Guid.NewGuid());
        var merchant = await host.RunAsync<MerchantService, Merchant>(s => s.RegisterAsync(owner, Registration(timeZone)));
        return (owner, merchant.Id);
    }

    public static Task<KycStatus> KycAsync(this TestHost host, Guid merchantId) =>
        host.QueryAsync(db => db.Merchants.Where(m => m.Id == merchantId).Select(m => m.KycStatus).SingleAsync());

    public static async Task AssertKycConflictAsync(this TestHost host, Func<MerchantService, Task> attempt)
    {
        var error = await Assert.ThrowsAsync<ConflictException>(() => host.RunAsync(attempt));
        Assert.Equal("merchant.kyc_state", error.Code);
    }

    /// <summary>The SQLite database file and its write-ahead log, read while the host is running.</summary>
    public static byte[] ReadDatabaseBytes(TestHost host)
    {
        using var all = new MemoryStream();
        foreach (var path in new[] { host.DatabasePath, host.DatabasePath + "-wal", host.DatabasePath + "-journal" })
        {
            if (File.Exists(path))
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                file.CopyTo(all);
            }
        }

        Assert.True(all.Length > 0, "no database file found");
        return all.ToArray();
    }
}
