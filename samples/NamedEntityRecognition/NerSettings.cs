using System.Globalization;

namespace NamedEntityRecognition;

/// <summary>The command line: <c>--model DIR</c>, <c>--epochs N</c>, <c>--output DIR</c>, <c>--seed N</c>, <c>--data FILE</c>.</summary>
internal sealed record NerSettings
{
    public const string Usage =
        "Usage: dotnet run --project samples/NamedEntityRecognition -c Release -- [--model DIR] [--epochs N] [--layers N|all] [--output DIR] [--seed N] [--data FILE]\n" +
        "  --model DIR    a Hugging Face model folder or Hub id of any supported family (BERT, DistilBERT, RoBERTa, XLM-R; tokenizer picked as AutoTokenizer does; default: the embedded all-MiniLM-L6-v2)\n" +
        "  --epochs N     training epochs (default 6)\n" +
        "  --layers N     encoder layers to fine-tune from the top: 0 trains the head only (transfer learning), all is full fine-tuning (default 4)\n" +
        "  --output DIR   where the trained model is saved (default ./ner-model)\n" +
        "  --seed N       seed of the train/held-out split, the new head and dropout (default 42)\n" +
        "  --data FILE    a CoNLL file (token<TAB>tag, IOB2; default: the Amazon reviews corpus next to the program)";

    /// <summary>The pretrained folder or Hub id; <c>null</c> for the embedded all-MiniLM-L6-v2.</summary>
    public string? Model { get; init; }

    public int Epochs { get; init; } = 6;

    /// <summary>Top encoder layers that learn; <c>null</c> for all of them (full fine-tuning), 0 for the head only.</summary>
    public int? Layers { get; init; } = 4;

    public string Output { get; init; } = "ner-model";

    public int Seed { get; init; } = 42;

    public string Data { get; init; } = Path.Combine(AppContext.BaseDirectory, "data", "amazon_ner.conll");

    /// <summary>Parses <paramref name="args"/>; throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public static NerSettings Parse(IReadOnlyList<string> args)
    {
        var settings = new NerSettings();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.\n{Usage}");
            settings = name switch
            {
                "--model" => settings with { Model = Value() },
                "--epochs" => settings with { Epochs = Positive(name, Value()) },
                "--layers" => settings with { Layers = ParseLayers(name, Value()) },
                "--output" => settings with { Output = Value() },
                "--seed" => settings with { Seed = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--data" => settings with { Data = Value() },
                _ => throw new ArgumentException($"Unknown option '{name}'.\n{Usage}"),
            };
        }

        return settings;
    }

    private static int? ParseLayers(string name, string text) =>
        text == "all" ? null
        : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 0 ? value
        : throw new ArgumentException($"{name} must be a whole number from 0, or all, got '{text}'.");

    private static int Positive(string name, string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new ArgumentException($"{name} must be a positive whole number, got '{text}'.");
}
