using System.Diagnostics;

namespace OpenMavn.Core.Diagnostics;

/// <summary>Tracing for OpenMavn.Core: subscribe to the <c>OpenMavn.Core</c> activity source.</summary>
public static class OpenMavnDiagnostics
{
    /// <summary>The source name.</summary>
    public const string SourceName = "OpenMavn.Core";

    /// <summary>The activity source.</summary>
    public static ActivitySource ActivitySource { get; } = new(SourceName);
}
