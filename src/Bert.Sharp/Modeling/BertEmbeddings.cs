using Bert.Sharp.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp;

/// <summary>
/// Word + position + token-type embeddings, then LayerNorm and dropout: the first unit of <see cref="BertModel"/>. Field names
/// are the checkpoint keys (<c>embeddings.word_embeddings.weight</c>; <c>embeddings.LayerNorm.gamma</c> in old files is mapped on load).
/// The <see cref="EncoderFamily"/> decides the rest: DistilBERT has no token-type embeddings, RoBERTa numbers positions from
/// <c>pad_token_id + 1</c> over real tokens (Hugging Face's <c>create_position_ids_from_input_ids</c>), ModernBERT has no
/// position table (<c>embeddings.tok_embeddings</c>, <c>embeddings.norm</c>; rotary positions are applied in attention).
/// </summary>
public sealed class BertEmbeddings : nn.Module<Tensor, Tensor?, Tensor?, Tensor>
{
#pragma warning disable IDE1006, SA1300 // Field names are Hugging Face checkpoint keys.
    private readonly Embedding word_embeddings;
    private readonly Embedding? position_embeddings;
    private readonly Embedding? token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly FastDropout dropout;
#pragma warning restore IDE1006, SA1300

    internal BertEmbeddings(BertConfig config) : base(nameof(BertEmbeddings))
    {
        ArgumentNullException.ThrowIfNull(config);
        EncoderFamily family = config.Family;
        Positions = family.Positions;
        PadTokenId = config.PadTokenId;
        word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId);
        if (Positions == PositionNumbering.Rotary)
        {
            // ModernBERT's ModernBertEmbeddings: tok_embeddings, norm (bias per norm_bias), drop (embedding_dropout); positions are rotary, in attention.
            Modeling.ModernBertSettings settings = Modeling.ModernBertSettings.Read(config);
            LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps, bias: settings.NormBias);
            dropout = new FastDropout(settings.EmbeddingDropout);
            register_module("tok_embeddings", word_embeddings);
            register_module("norm", LayerNorm);
            register_module("drop", dropout);
            return;
        }

        position_embeddings = Positions == PositionNumbering.AfterPadding
            ? nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, padding_idx: config.PadTokenId)
            : nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        token_type_embeddings = family.HasTokenTypes ? nn.Embedding(config.TypeVocabSize, config.HiddenSize) : null;
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = new FastDropout(config.HiddenDropoutProb);
        register_module("word_embeddings", word_embeddings);
        register_module("position_embeddings", position_embeddings);
        if (token_type_embeddings is not null)
        {
            register_module("token_type_embeddings", token_type_embeddings);
        }

        register_module("LayerNorm", LayerNorm);
        register_module("dropout", dropout);
    }

    /// <summary>Submodules are registered by name in the constructor (names depend on the family); field-based registration would add them twice.</summary>
    protected override void RegisterComponents()
    {
    }

    /// <summary>How positions are numbered when none are given.</summary>
    public PositionNumbering Positions { get; }

    private long PadTokenId { get; }

    /// <summary>The position embedding table [max_position_embeddings, hidden]; <c>null</c> for rotary positions (ModernBERT).</summary>
    public Embedding? PositionEmbeddings => position_embeddings;

    /// <summary>
    /// RoBERTa's position ids for <paramref name="inputIds"/>: <c>cumsum(ids != pad) * (ids != pad) + pad</c>, as Hugging Face's
    /// <c>create_position_ids_from_input_ids</c> computes them.
    /// </summary>
    internal static Tensor PositionIdsAfterPadding(Tensor inputIds, long padTokenId)
    {
        using var scope = NewDisposeScope();
        Tensor mask = Runtime.HeldScalars.NotEqual(inputIds, padTokenId).to(ScalarType.Int64);
        return Runtime.HeldScalars.Add(mask.cumsum(1) * mask, padTokenId).MoveToOuterDisposeScope();
    }

    /// <summary>The token embedding table [vocab, hidden].</summary>
    public Embedding WordEmbeddings => word_embeddings;

    /// <summary>Embeds ids [batch, seq] into [batch, seq, hidden].</summary>
    /// <param name="inputIds">Token ids (int64).</param>
    /// <param name="tokenTypeIds">Segment ids, or <c>null</c> for all zeros; ignored by a family without token types.</param>
    /// <param name="positionIds">Positions, or <c>null</c> for the family's numbering (0..seq-1, or RoBERTa's after the padding index).</param>
    public override Tensor forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor? positionIds)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        using var scope = NewDisposeScope();
        if (position_embeddings is null)
        {
            // ModernBERT: drop(norm(tok_embeddings(ids))); the position ids are applied by the attention's rotation.
            return dropout.call(LayerNorm.call(word_embeddings.call(inputIds))).MoveToOuterDisposeScope();
        }

        long seq = inputIds.shape[1];
        positionIds ??= Positions == PositionNumbering.AfterPadding
            ? PositionIdsAfterPadding(inputIds, PadTokenId)
            : Runtime.HeldScalars.Range(seq, ScalarType.Int64, inputIds.device).unsqueeze(0);
        Tensor embeddings = Runtime.HeldScalars.Add(word_embeddings.call(inputIds), position_embeddings.call(positionIds));
        if (token_type_embeddings is not null)
        {
            embeddings = tokenTypeIds is null
                ? Runtime.HeldScalars.Add(embeddings, token_type_embeddings.weight![0])
                : Runtime.HeldScalars.Add(embeddings, token_type_embeddings.call(tokenTypeIds));
        }

        embeddings = dropout.call(LayerNorm.call(embeddings));
        return embeddings.MoveToOuterDisposeScope();
    }
}
