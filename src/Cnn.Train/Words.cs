namespace Cnn.Train;

/// <summary>Lists of names as messages and help texts write them.</summary>
internal static class Words
{
    /// <summary>"a, b or c".</summary>
    public static string Or(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count <= 1 ? string.Concat(list) : $"{string.Join(", ", list.Take(list.Count - 1))} or {list[^1]}";
    }
}
