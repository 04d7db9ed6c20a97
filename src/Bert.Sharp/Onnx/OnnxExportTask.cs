namespace Bert.Sharp.Onnx;

/// <summary>What an exported graph computes, from the kind of folder it was made from.</summary>
internal enum OnnxExportTask
{
    /// <summary>A plain <c>BertModel</c>: <c>last_hidden_state</c> (and <c>pooler_output</c>).</summary>
    FeatureExtraction,

    /// <summary><c>BertForSequenceClassification</c>: <c>logits</c> and <c>probabilities</c> per text.</summary>
    SequenceClassification,

    /// <summary><c>BertForTokenClassification</c>: <c>logits</c> and <c>probabilities</c> per token.</summary>
    TokenClassification,

    /// <summary>A sentence-transformers folder: <c>last_hidden_state</c> and the pooled (normalised) <c>sentence_embedding</c>.</summary>
    SentenceEmbedding,
}

/// <summary>How hidden states become one vector per text in the exported graph.</summary>
internal enum OnnxPooling
{
    /// <summary>No pooling (token-level outputs).</summary>
    None,

    /// <summary>The BERT pooler: dense + tanh over [CLS].</summary>
    Pooler,

    /// <summary>Mean over real tokens (attention mask).</summary>
    Mean,

    /// <summary>The raw hidden state of [CLS].</summary>
    Cls,

    /// <summary>Maximum over real tokens, per dimension.</summary>
    Max,
}
