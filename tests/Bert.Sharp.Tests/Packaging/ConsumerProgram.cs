namespace Bert.Sharp.Tests.Packaging;

/// <summary>The Program.cs of the throw-away app that consumes the packed library.</summary>
internal static class ConsumerProgram
{
    public const string Source = """
        using Bert.Sharp;
        using TorchSharp;

        TorchRuntime.EnsureLoaded();
        var config = new BertConfig { VocabSize = 64, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 64, MaxPositionEmbeddings = 32 };
        using var model = new BertModel(config);
        using var ids = torch.tensor(new long[,] { { 2, 5, 7, 3 } });
        using var output = model.Forward(ids);
        Console.WriteLine($"hidden {string.Join('x', output.LastHiddenState.shape)}");
        Console.WriteLine("CONSUMER OK");
        """;
}
