using System.Reflection;

namespace OpenMavn.Notifications.Templates;

/// <summary>
/// Where message templates come from (<c>OpenMavn:Notifications:Templates</c>). For each message OpenMavn looks
/// for <c>{type}.{language}.tmpl</c> first in <see cref="Directory"/>, then in <see cref="Assemblies"/>, then in
/// the built-in set, and falls back to <see cref="FallbackLanguage"/> the same way.
/// </summary>
public sealed class NotificationTemplateOptions
{
    /// <summary>A folder of host templates (<c>voucher.purchased.de.tmpl</c>, <c>_layout.html</c>, …); read once per file.</summary>
    public string? Directory { get; set; }

    /// <summary>
    /// Assemblies whose embedded resources override the built-in templates: any resource whose name ends with
    /// <c>.{type}.{language}.tmpl</c> (or <c>._layout.html</c>).
    /// </summary>
    public IList<Assembly> Assemblies { get; } = [];

    /// <summary>The platform's name in sign-offs (<c>{{platformName}}</c>). Default <c>OpenMavn</c>.</summary>
    public string PlatformName { get; set; } = "OpenMavn";

    /// <summary>The language used when a template is missing in the recipient's language. Default <c>en</c>.</summary>
    public string FallbackLanguage { get; set; } = "en";
}
