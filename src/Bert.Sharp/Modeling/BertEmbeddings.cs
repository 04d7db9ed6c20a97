using Bert.Sharp.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// Word + position + token-type embeddings, then LayerNorm and dropout: the first unit of <see cref="BertModel"/>. Field names
/// are the checkpoint keys (<c>embeddings.word_embeddings.weight</c>; <c>embeddings.LayerNorm.gamma</c> in old files is mapped on load).
/// </summary>
public sealed class BertEmbeddings : nn.Module<Tensor, Tensor?, Tensor?, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly FastDropout dropout;
#pragma warning restore IDE1006, SA1300

    internal BertEmbeddings(BertConfig config) : base(nameof(BertEmbeddings))
    {
        ArgumentNullException.ThrowIfNull(config);
        word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId);
        position_embeddings = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        token_type_embeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = new FastDropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>The token embedding table [vocab, hidden].</summary>
    public Embedding WordEmbeddings => word_embeddings;

    /// <summary>Embeds ids [batch, seq] into [batch, seq, hidden].</summary>
    /// <param name="inputIds">Token ids (int64).</param>
    /// <param name="tokenTypeIds">Segment ids, or <c>null</c> for all zeros.</param>
    /// <param name="positionIds">Positions, or <c>null</c> for 0..seq-1.</param>
    public override Tensor forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor? positionIds)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        using var scope = NewDisposeScope();
        long seq = inputIds.shape[1];
        positionIds ??= arange(seq, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0);
        Tensor embeddings = word_embeddings.call(inputIds) + position_embeddings.call(positionIds);
        embeddings = tokenTypeIds is null
            ? embeddings + token_type_embeddings.weight![0]
            : embeddings + token_type_embeddings.call(tokenTypeIds);
        embeddings = dropout.call(LayerNorm.call(embeddings));
        return embeddings.MoveToOuterDisposeScope();
    }
}
