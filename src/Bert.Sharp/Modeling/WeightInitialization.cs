using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Modeling;

/// <summary>Hugging Face's BERT initialisation: normal(0, range) for dense and embedding weights, zero biases, unit LayerNorms, a zero padding row.</summary>
internal static class WeightInitialization
{
    public static void Apply(nn.Module root, double initializerRange, long? paddingIndex = null) => Apply(root, initializerRange, paddingIndex, null);

    /// <summary>The same, drawing from <paramref name="generator"/> (a CPU generator; <c>null</c>: torch's global one).</summary>
    public static void Apply(nn.Module root, double initializerRange, long? paddingIndex, Generator? generator)
    {
        using var noGrad = no_grad();

        // TorchSharp's Embedding hands out a new Parameter handle on every read of .weight; the scope references each until
        // it is done with and then frees it (left to the finalizer, one could be freed while a native call still reads it).
        using var scope = NewDisposeScope();
        Embedding? wordEmbeddings = (root as BertModel)?.Embeddings.WordEmbeddings;
        // RoBERTa's position table has a padding row too (padding tokens sit at position pad_token_id), zeroed as Hugging Face does.
        Embedding? positionEmbeddings = (root as BertModel)?.Embeddings is { Positions: PositionNumbering.AfterPadding } e ? e.PositionEmbeddings : null;
        foreach ((string _, nn.Module module) in root.named_modules())
        {
            switch (module)
            {
                case BertLinear linear:
                    Normal(linear.Weight, initializerRange, generator);
                    if (linear.Bias is not null)
                    {
                        nn.init.zeros_(linear.Bias);
                    }

                    break;
                case Embedding embedding:
                    Normal(embedding.weight!, initializerRange, generator);
                    if (paddingIndex is long pad && pad < embedding.weight!.shape[0] && (ReferenceEquals(embedding, wordEmbeddings) || ReferenceEquals(embedding, positionEmbeddings)))
                    {
                        embedding.weight![pad].zero_();
                    }

                    break;
                case LayerNorm norm:
                    nn.init.ones_(norm.weight!);
                    if (norm.bias is not null)
                    {
                        nn.init.zeros_(norm.bias);
                    }

                    break;
            }
        }
    }

    private static void Normal(Tensor target, double std, Generator? generator)
    {
        if (generator is null)
        {
            nn.init.normal_(target, 0, std);
        }
        else
        {
            Runtime.DeviceRandom.NormalInPlace(target, 0, std, generator);
        }
    }
}
