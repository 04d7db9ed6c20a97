namespace Bert.Sharp;

/// <summary>
/// How a <see cref="BertTokenizer"/> normalizes text and which special tokens it uses. Mirrors the keys of a
/// Hugging Face <c>tokenizer_config.json</c>; the defaults are those of <c>bert-base-uncased</c>.
/// </summary>
/// <remarks>
/// Use it with <see cref="BertTokenizer.FromVocabulary"/> when all you have is a <c>vocab.txt</c>; a checkpoint
/// directory loaded with <see cref="BertTokenizer.FromPretrained"/> brings its own settings. For a cased model
/// (for example <c>bert-base-cased</c>) set <see cref="DoLowerCase"/> to false.
/// </remarks>
public sealed record BertTokenizerOptions
{
    /// <summary>Lower-case the text (<c>do_lower_case</c>). True for uncased checkpoints.</summary>
    public bool DoLowerCase { get; init; } = true;

    /// <summary>Strip accents (<c>strip_accents</c>): decompose characters and drop non-spacing marks.
    /// Null follows <see cref="DoLowerCase"/>, as Hugging Face does.</summary>
    public bool? StripAccents { get; init; }

    /// <summary>Put every CJK ideograph in a word of its own (<c>tokenize_chinese_chars</c>).</summary>
    public bool TokenizeChineseChars { get; init; } = true;

    /// <summary>Drop control, format and private-use characters and turn every kind of whitespace into a space
    /// (<c>clean_text</c>). Hugging Face's BERT tokenizers always do this.</summary>
    public bool CleanText { get; init; } = true;

    /// <summary>Words with more characters than this (after normalization) become the unknown token.</summary>
    public int MaxInputCharsPerWord { get; init; } = 100;

    /// <summary>The longest sequence the model accepts (<c>model_max_length</c>); the default truncation length.</summary>
    public int ModelMaxLength { get; init; } = 512;

    /// <summary>The unknown token (<c>unk_token</c>).</summary>
    public string UnknownToken { get; init; } = "[UNK]";

    /// <summary>The classification token that starts every sequence (<c>cls_token</c>).</summary>
    public string ClsToken { get; init; } = "[CLS]";

    /// <summary>The separator that ends each text of a sequence (<c>sep_token</c>).</summary>
    public string SepToken { get; init; } = "[SEP]";

    /// <summary>The padding token (<c>pad_token</c>).</summary>
    public string PadToken { get; init; } = "[PAD]";

    /// <summary>The mask token of masked-language modelling (<c>mask_token</c>).</summary>
    public string MaskToken { get; init; } = "[MASK]";

    /// <summary>Accent stripping as actually applied: <see cref="StripAccents"/>, or <see cref="DoLowerCase"/> when null.</summary>
    internal bool EffectiveStripAccents => StripAccents ?? DoLowerCase;
}
