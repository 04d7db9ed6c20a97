namespace Bert.Sharp;

/// <summary>The layout of an encoder family's sequence classification head, as its Hugging Face class builds it.</summary>
public enum SequenceHeadLayout
{
    /// <summary>BERT's: dropout and one linear layer (<c>classifier</c>) over the pooled vector.</summary>
    Linear,

    /// <summary>RoBERTa's: over the first token, dropout, <c>classifier.dense</c>, tanh, dropout, <c>classifier.out_proj</c>.</summary>
    DenseTanhOutProjection,

    /// <summary>DistilBERT's: over the first token, <c>pre_classifier</c>, ReLU, dropout, <c>classifier</c>.</summary>
    PreClassifierRelu,

    /// <summary>ModernBERT's: over the first token or the mean of the real tokens (<c>classifier_pooling</c>), <c>head.dense</c>, activation, <c>head.norm</c>, dropout, <c>classifier</c>.</summary>
    PredictionHead,
}
