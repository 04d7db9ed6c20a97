using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bert.Sharp.Tests.Fuzzing;

/// <summary>
/// Structural mutations of a JSON document: keys removed, renamed or duplicated, values swapped for values of another
/// kind or extreme values, containers nested deeply or grown large. Deterministic for a given <see cref="Random"/>.
/// </summary>
internal static class JsonMutator
{
    private static readonly Func<Random, JsonNode?>[] Replacements =
    [
        _ => null,
        _ => JsonValue.Create(true),
        _ => JsonValue.Create(0),
        _ => JsonValue.Create(-1),
        _ => JsonValue.Create(int.MaxValue),
        _ => JsonValue.Create(2_147_483_648L),
        _ => JsonValue.Create(long.MaxValue),
        _ => JsonValue.Create(1e308),
        _ => JsonValue.Create(-1.5),
        _ => JsonValue.Create(100_000_000),
        _ => JsonValue.Create(string.Empty),
        _ => JsonValue.Create("[UNK]"),
        _ => JsonValue.Create("distilbert"),
        rng => JsonValue.Create(new string('x', 1 + rng.Next(5_000))),
        _ => JsonValue.Create("\u00e9\u0301\ud83d\ude00\u0000"),
        _ => new JsonArray(),
        _ => new JsonObject(),
        rng => new JsonArray([.. Enumerable.Range(0, 1 + rng.Next(2_000)).Select(i => (JsonNode?)JsonValue.Create(i))]),
        rng => Nest(1 + rng.Next(80)),
    ];

    /// <summary>Applies one to three structural mutations to <paramref name="json"/>; null when it is not JSON.</summary>
    public static byte[]? Mutate(byte[] json, Random rng, List<string> log)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException)
        {
            return null;
        }

        if (root is null)
        {
            return null;
        }

        int count = 1 + rng.Next(3);
        string? duplicate = null;
        for (int i = 0; i < count; i++)
        {
            List<JsonNode> nodes = Collect(root);
            JsonNode target = nodes[rng.Next(nodes.Count)];
            switch (rng.Next(6))
            {
                case 0 when target is JsonObject obj && obj.Count > 0:
                {
                    string key = obj.ElementAt(rng.Next(obj.Count)).Key;
                    obj.Remove(key);
                    log.Add($"remove {target.GetPath()}.{key}");
                    break;
                }

                case 1 when target is JsonObject obj && obj.Count > 0:
                {
                    (string key, JsonNode? value) = obj.ElementAt(rng.Next(obj.Count));
                    string renamed = rng.Next(2) == 0 ? key.ToUpperInvariant() : key + "_";
                    obj.Remove(key);
                    if (!obj.ContainsKey(renamed))
                    {
                        obj[renamed] = value;
                    }

                    log.Add($"rename {target.GetPath()}.{key} to {renamed}");
                    break;
                }

                case 2 when target is JsonObject obj && obj.Count > 0:
                    // JsonNode cannot hold duplicate keys; the text is patched after serialization.
                    duplicate = obj.ElementAt(rng.Next(obj.Count)).Key;
                    log.Add($"duplicate key {duplicate}");
                    break;

                case 3 when target is JsonArray array && array.Count > 0:
                {
                    int index = rng.Next(array.Count);
                    array.RemoveAt(index);
                    log.Add($"remove {target.GetPath()}[{index}]");
                    break;
                }

                case 4 when target.Parent is not null:
                    Replace(target, Wrap(target, rng), log, "wrap");
                    break;

                default:
                    if (target.Parent is not null)
                    {
                        Replace(target, Replacements[rng.Next(Replacements.Length)](rng), log, "replace");
                    }
                    else
                    {
                        log.Add("root kept");
                    }

                    break;
            }
        }

        string text = root.ToJsonString();
        if (duplicate is not null)
        {
            string quoted = JsonSerializer.Serialize(duplicate) + ":";
            int at = text.IndexOf(quoted, StringComparison.Ordinal);
            if (at >= 0)
            {
                text = text.Insert(at, quoted + "0,");
            }
        }

        return Encoding.UTF8.GetBytes(text);
    }

    private static JsonNode Wrap(JsonNode node, Random rng) => rng.Next(2) == 0
        ? new JsonArray(node.DeepClone())
        : new JsonObject { ["content"] = node.DeepClone() };

    private static void Replace(JsonNode target, JsonNode? replacement, List<string> log, string what)
    {
        string path = target.GetPath();
        switch (target.Parent)
        {
            case JsonObject parent:
                parent[target.GetPropertyName()] = replacement;
                break;
            case JsonArray parent:
                parent[target.GetElementIndex()] = replacement;
                break;
        }

        string? json = replacement?.ToJsonString();
        log.Add($"{what} {path} with {(json is { Length: < 40 } ? json : replacement?.GetValueKind().ToString() ?? "null")}");
    }

    private static JsonNode Nest(int depth)
    {
        JsonNode node = new JsonArray();
        for (int i = 0; i < depth; i++)
        {
            node = new JsonArray(node);
        }

        return node;
    }

    private static List<JsonNode> Collect(JsonNode root)
    {
        var nodes = new List<JsonNode>();
        var pending = new Stack<JsonNode>();
        pending.Push(root);
        while (pending.Count > 0 && nodes.Count < 50_000)
        {
            JsonNode node = pending.Pop();
            nodes.Add(node);
            IEnumerable<JsonNode?> children = node switch
            {
                JsonObject obj => obj.Select(p => p.Value),
                JsonArray array => array,
                _ => [],
            };
            foreach (JsonNode? child in children)
            {
                if (child is not null)
                {
                    pending.Push(child);
                }
            }
        }

        return nodes;
    }
}
