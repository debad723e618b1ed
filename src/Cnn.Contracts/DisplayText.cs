using System.Text;

namespace Cnn.Contracts;

/// <summary>
/// Text from outside (a file name, a form field) made safe to show: control characters, which a terminal obeys (colours,
/// bells, a forged line), and the invisible direction marks that reorder what is shown (U+202E turns "gpj.exe" into
/// "exe.jpg") are written as escapes such as <c>\x1b</c>, <c>\n</c> or <c>\u202e</c>. Everything else is kept.
/// </summary>
public static class DisplayText
{
    /// <summary>The text with its control and direction characters escaped; the same string when it has none.</summary>
    /// <param name="text">Text from outside.</param>
    /// <returns>Text safe to print or echo.</returns>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(NeedsEscape))
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            escaped.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when !NeedsEscape(c) => c.ToString(),
                _ when c < 0x100 => $"\\x{(int)c:x2}",
                _ => $"\\u{(int)c:x4}",
            });
        }

        return escaped.ToString();
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c)
        || c is '\u200E' or '\u200F' or '\u061C' or '\u2028' or '\u2029'
        || c is >= '\u202A' and <= '\u202E'
        || c is >= '\u2066' and <= '\u2069';
}
