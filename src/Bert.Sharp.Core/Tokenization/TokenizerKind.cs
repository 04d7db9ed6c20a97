namespace Bert.Sharp;

/// <summary>The tokenizer families <see cref="AutoTokenizer"/> loads.</summary>
public enum TokenizerKind
{
    /// <summary>WordPiece with BERT's normalizer (BERT, DistilBERT): a <see cref="BertTokenizer"/>.</summary>
    WordPiece = 0,

    /// <summary>Byte-level BPE (RoBERTa, ModernBERT, GPT-2).</summary>
    ByteLevelBpe = 1,

    /// <summary>SentencePiece Unigram with the Metaspace pre-tokenizer (XLM-RoBERTa).</summary>
    Unigram = 2,
}
