using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using OpenMavn.Core.Vouchers;

namespace OpenMavn.Bench.Scale;

/// <summary>
/// Bulk seeding by cloning one real purchase. The harness buys one voucher through Core (customer, order, sandbox
/// payment, issuance: the rows and values the schema and the code expect); this class then copies every row that
/// purchase added to the per-purchase tables, <c>count</c> times, with prepared INSERTs in a few large transactions,
/// giving each copy fresh ids (Guid v7, like Core), a fresh voucher code from <see cref="VoucherCode.Generate"/> and
/// fresh unique values wherever the template's ids or code appear inside a text column (e-mail, dedupe keys).
/// Constraints, foreign keys, unique indexes and the append-only triggers stay on: every row goes through them.
/// </summary>
internal static class Seeder
{
    /// <summary>Tables cloned per purchase, parents first. Others the purchase touched are left alone (see README).</summary>
    public static readonly string[] PerPurchaseTables = ["Customers", "Orders", "Vouchers", "VoucherActivities", "JournalEntries", "JournalLines"];

    private const int RowsPerTransaction = 100_000;

    /// <summary>The highest rowid of every table, to tell afterwards which rows one purchase added.</summary>
    public static Dictionary<string, long> Watermarks(SqliteConnection connection)
    {
        var tables = new List<string>();
        using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
            using var reader = list.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var marks = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            using var max = connection.CreateCommand();
            max.CommandText = $"SELECT COALESCE(MAX(rowid), 0) FROM \"{table}\"";
            marks[table] = (long)max.ExecuteScalar()!;
        }

        return marks;
    }

    /// <summary>Clones the template purchase <paramref name="count"/> times; returns the new voucher codes.</summary>
    public static string[] Clone(SqliteConnection connection, Dictionary<string, long> before, string templateCode, int count, TextWriter log)
    {
        var templates = new List<TableTemplate>();
        foreach (var table in PerPurchaseTables)
        {
            templates.AddRange(ReadRows(connection, table, before[table]));
        }

        var skipped = Watermarks(connection).Where(t => t.Value > before[t.Key] && !PerPurchaseTables.Contains(t.Key)).Select(t => t.Key).ToList();
        log.WriteLine($"  template purchase: {string.Join(", ", templates.GroupBy(t => t.Table).Select(g => $"{g.Key} {g.Count()}"))}; not cloned: {string.Join(", ", skipped)}");

        // Every Guid id of a template row gets a fresh value per copy; so does the voucher code.
        var ids = templates.Where(t => t.GuidId is not null).Select(t => t.GuidId!.Value).Distinct().ToArray();
        if (templates.Count(t => t.Table == "Vouchers") != 1)
        {
            throw new InvalidOperationException("The template purchase must issue exactly one voucher.");
        }

        var substitutions = new List<(string Old, int Slot, Func<Guid, string> Format)>();
        for (var slot = 0; slot < ids.Length; slot++)
        {
            var id = ids[slot];
            substitutions.Add((id.ToString("D").ToUpperInvariant(), slot, g => g.ToString("D").ToUpperInvariant()));
            substitutions.Add((id.ToString("D"), slot, g => g.ToString("D")));
            substitutions.Add((id.ToString("N"), slot, g => g.ToString("N")));
        }

        const int CodeSlot = -1;
        substitutions.Add((templateCode, CodeSlot, _ => ""));

        var plans = templates.Select(t => Plan(connection, t, substitutions)).ToList();
        var codes = new string[count];
        var newIds = new Guid[ids.Length];
        var clock = Stopwatch.StartNew();
        var transaction = connection.BeginTransaction();
        foreach (var plan in plans)
        {
            plan.Command.Transaction = transaction;
        }

        for (var i = 0; i < count; i++)
        {
            for (var slot = 0; slot < newIds.Length; slot++)
            {
                newIds[slot] = Guid.CreateVersion7();
            }

            var code = VoucherCode.Generate();
            codes[i] = code;
            foreach (var plan in plans)
            {
                plan.Execute(newIds, code);
            }

            if ((i + 1) % RowsPerTransaction == 0)
            {
                transaction.Commit();
                transaction.Dispose();
                transaction = connection.BeginTransaction();
                foreach (var plan in plans)
                {
                    plan.Command.Transaction = transaction;
                }

                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {i + 1:N0} purchases cloned in {clock.Elapsed.TotalSeconds:F1} s"));
            }
        }

        transaction.Commit();
        transaction.Dispose();
        foreach (var plan in plans)
        {
            plan.Command.Dispose();
        }

        return codes;
    }

    private static List<TableTemplate> ReadRows(SqliteConnection connection, string table, long after)
    {
        using var select = connection.CreateCommand();
        select.CommandText = $"SELECT * FROM \"{table}\" WHERE rowid > $after ORDER BY rowid";
        select.Parameters.AddWithValue("$after", after);
        using var reader = select.ExecuteReader();
        var rows = new List<TableTemplate>();
        while (reader.Read())
        {
            var columns = new List<(string Name, object? Value)>();
            Guid? guidId = null;
            for (var c = 0; c < reader.FieldCount; c++)
            {
                var name = reader.GetName(c);
                var value = reader.IsDBNull(c) ? null : reader.GetValue(c);
                if (name == "Id" && value is long)
                {
                    continue; // INTEGER PRIMARY KEY AUTOINCREMENT: SQLite numbers the copy.
                }

                if (name == "Id" && value is string text && Guid.TryParse(text, out var id))
                {
                    guidId = id;
                }

                columns.Add((name, value));
            }

            rows.Add(new TableTemplate(table, guidId, columns));
        }

        return rows;
    }

    private static InsertPlan Plan(SqliteConnection connection, TableTemplate template, List<(string Old, int Slot, Func<Guid, string> Format)> substitutions)
    {
        var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO \"{template.Table}\" ({string.Join(", ", template.Columns.Select(c => $"\"{c.Name}\""))}) VALUES ({string.Join(", ", template.Columns.Select((_, i) => $"$p{i}"))})";
        var variable = new List<(SqliteParameter Parameter, string Template, (string Old, int Slot, Func<Guid, string> Format)[] Substitutions)>();
        for (var i = 0; i < template.Columns.Count; i++)
        {
            var (_, value) = template.Columns[i];
            var parameter = command.Parameters.AddWithValue($"$p{i}", value ?? DBNull.Value);
            if (value is string text)
            {
                var applicable = substitutions.Where(s => text.Contains(s.Old, StringComparison.Ordinal)).ToArray();
                if (applicable.Length > 0)
                {
                    variable.Add((parameter, text, applicable));
                }
            }
        }

        command.Prepare();
        return new InsertPlan(command, variable);
    }

    private sealed record TableTemplate(string Table, Guid? GuidId, List<(string Name, object? Value)> Columns);

    private sealed class InsertPlan(SqliteCommand command, List<(SqliteParameter Parameter, string Template, (string Old, int Slot, Func<Guid, string> Format)[] Substitutions)> variable)
    {
        public SqliteCommand Command { get; } = command;

        public void Execute(Guid[] ids, string code)
        {
            foreach (var (parameter, template, substitutions) in variable)
            {
                var value = template;
                foreach (var (old, slot, format) in substitutions)
                {
                    value = value.Replace(old, slot < 0 ? code : format(ids[slot]), StringComparison.Ordinal);
                }

                parameter.Value = value;
            }

            Command.ExecuteNonQuery();
        }
    }
}
