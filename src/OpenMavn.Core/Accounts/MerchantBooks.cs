using OpenMavn.Core.Persistence;

namespace OpenMavn.Core.Accounts;

/// <summary>Posts balanced journal entries into the current unit of work.</summary>
internal static class MerchantBooks
{
    public static void Post(
        OpenMavnDbContext db,
        Guid merchantId,
        JournalEntryKind kind,
        Guid referenceId,
        string currency,
        DateTimeOffset at,
        params (LedgerAccount Account, long Debit, long Credit)[] lines) =>
        Post(db, merchantId, kind, referenceId, $"{kind}:{referenceId:N}", currency, at, lines);

    public static void Post(
        OpenMavnDbContext db,
        Guid merchantId,
        JournalEntryKind kind,
        Guid referenceId,
        string dedupeKey,
        string currency,
        DateTimeOffset at,
        params (LedgerAccount Account, long Debit, long Credit)[] lines)
    {
        var debits = lines.Sum(l => l.Debit);
        var credits = lines.Sum(l => l.Credit);
        if (debits != credits || lines.Any(l => l.Debit < 0 || l.Credit < 0))
        {
            throw new InvalidOperationException($"Unbalanced {kind} entry: debits {debits}, credits {credits}.");
        }

        var kept = lines.Where(l => l.Debit != 0 || l.Credit != 0).ToArray();
        if (kept.Length == 0)
        {
            return;
        }

        var entry = new JournalEntry
        {
            Id = Guid.CreateVersion7(at),
            MerchantId = merchantId,
            Kind = kind,
            ReferenceId = referenceId,
            DedupeKey = dedupeKey,
            At = at,
        };
        foreach (var (account, debit, credit) in kept)
        {
            entry.Lines.Add(new JournalLine { EntryId = entry.Id, MerchantId = merchantId, Account = account, Currency = currency, Debit = debit, Credit = credit });
        }

        db.JournalEntries.Add(entry);
    }

    /// <summary>A fee in basis points plus a fixed part, rounded half up, in integers only.</summary>
    public static long Fee(long amount, int basisPoints, long fixedPart) =>
        amount == 0 ? 0 : checked((((amount * basisPoints) + 5_000) / 10_000) + fixedPart);
}
