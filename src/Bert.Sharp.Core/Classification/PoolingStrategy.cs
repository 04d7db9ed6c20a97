namespace Bert.Sharp;

/// <summary>How a <c>ClassificationHead</c> turns the encoder's token states into one vector per text.</summary>
public enum PoolingStrategy
{
    /// <summary>
    /// The pooler's output (dense + tanh over [CLS]), as Hugging Face's <c>BertForSequenceClassification</c> does. Use it for
    /// checkpoints whose pooler was trained (original BERT checkpoints); the only choice Hugging Face reproduces.
    /// </summary>
    Pooler,

    /// <summary>
    /// The mean of the last hidden states over real (unpadded) tokens. Use it for checkpoints without a trained pooler
    /// (sentence-transformer models such as all-MiniLM, distilled models): their mean-pooled states are the trained features.
    /// </summary>
    Mean,

    /// <summary>The raw last hidden state of [CLS], without the pooler.</summary>
    Cls,

    /// <summary>The element-wise maximum of the last hidden states over real tokens (a sentence-transformers pooling).</summary>
    Max,
}
