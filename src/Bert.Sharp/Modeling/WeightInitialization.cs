using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>Hugging Face's BERT initialisation: normal(0, range) for dense and embedding weights, zero biases, unit LayerNorms, a zero padding row.</summary>
internal static class WeightInitialization
{
    public static void Apply(nn.Module root, double initializerRange, long? paddingIndex = null)
    {
        using var noGrad = no_grad();
        Embedding? wordEmbeddings = (root as BertModel)?.Embeddings.WordEmbeddings;
        // RoBERTa's position table has a padding row too (padding tokens sit at position pad_token_id), zeroed as Hugging Face does.
        Embedding? positionEmbeddings = (root as BertModel)?.Embeddings is { Positions: PositionNumbering.AfterPadding } e ? e.PositionEmbeddings : null;
        foreach ((string _, nn.Module module) in root.named_modules())
        {
            switch (module)
            {
                case BertLinear linear:
                    nn.init.normal_(linear.Weight, 0, initializerRange);
                    if (linear.Bias is not null)
                    {
                        nn.init.zeros_(linear.Bias);
                    }

                    break;
                case Embedding embedding:
                    nn.init.normal_(embedding.weight!, 0, initializerRange);
                    if (paddingIndex is long pad && pad < embedding.weight!.shape[0] && (ReferenceEquals(embedding, wordEmbeddings) || ReferenceEquals(embedding, positionEmbeddings)))
                    {
                        embedding.weight![pad].zero_();
                    }

                    break;
                case LayerNorm norm:
                    nn.init.ones_(norm.weight!);
                    nn.init.zeros_(norm.bias!);
                    break;
            }
        }
    }
}
