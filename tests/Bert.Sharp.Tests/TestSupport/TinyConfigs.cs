namespace Bert.Sharp.Tests.TestSupport;

/// <summary>Small random-weight configurations for fast unit tests.</summary>
internal static class TinyConfigs
{
    public static BertConfig Bert(int layers = 2, int hidden = 32, int heads = 4, int vocab = 100, int maxPositions = 64, string act = "gelu", double dropout = 0.0, string? attention = null) => new()
    {
        VocabSize = vocab,
        HiddenSize = hidden,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        IntermediateSize = hidden * 2,
        MaxPositionEmbeddings = maxPositions,
        HiddenAct = act,
        HiddenDropoutProb = dropout,
        AttentionProbsDropoutProb = dropout,
        AttentionImplementation = attention,
    };
}
