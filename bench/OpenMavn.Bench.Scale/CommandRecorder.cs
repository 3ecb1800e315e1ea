using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace OpenMavn.Bench.Scale;

/// <summary>Records the SQL EF Core sends while <see cref="Recording"/> is on, to EXPLAIN QUERY PLAN it afterwards.</summary>
internal sealed class CommandRecorder : DbCommandInterceptor
{
    private readonly List<(string Sql, (string Name, object? Value)[] Parameters)> _commands = [];

    public bool Recording { get; set; }

    public IReadOnlyList<(string Sql, (string Name, object? Value)[] Parameters)> Commands => _commands;

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        Record(command);
        return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
    }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Record(command);
        return base.NonQueryExecutingAsync(command, eventData, result, cancellationToken);
    }

    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        Record(command);
        return base.ScalarExecutingAsync(command, eventData, result, cancellationToken);
    }

    private void Record(DbCommand command)
    {
        if (!Recording)
        {
            return;
        }

        lock (_commands)
        {
            _commands.Add((command.CommandText, command.Parameters.Cast<DbParameter>().Select(p => (p.ParameterName, (object?)p.Value)).ToArray()));
        }
    }
}
