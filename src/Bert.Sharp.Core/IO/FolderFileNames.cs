namespace Bert.Sharp.IO;

/// <summary>
/// The name of every file a saved Bert.Sharp or Hugging Face model folder holds, in one place (as transformers' constants
/// <c>CONFIG_NAME</c>, <c>SAFE_WEIGHTS_NAME</c>, <c>WEIGHTS_NAME</c>, <c>ADAPTER_CONFIG_NAME</c>, ...). Readers, writers
/// and the Hub's file selection name files through these, so a folder is spelled the same everywhere.
/// </summary>
internal static class FolderFileNames
{
    /// <summary>The model's configuration (<c>CONFIG_NAME</c>).</summary>
    public const string Config = "config.json";

    /// <summary>Single-file safetensors weights (<c>SAFE_WEIGHTS_NAME</c>).</summary>
    public const string SafeTensorsWeights = "model.safetensors";

    /// <summary>The index of sharded safetensors weights (<c>SAFE_WEIGHTS_INDEX_NAME</c>).</summary>
    public const string SafeTensorsWeightsIndex = "model.safetensors.index.json";

    /// <summary>Single-file PyTorch weights (<c>WEIGHTS_NAME</c>).</summary>
    public const string PyTorchWeights = "pytorch_model.bin";

    /// <summary>The index of sharded PyTorch weights (<c>WEIGHTS_INDEX_NAME</c>).</summary>
    public const string PyTorchWeightsIndex = "pytorch_model.bin.index.json";

    /// <summary>A PEFT adapter's configuration (<c>ADAPTER_CONFIG_NAME</c>).</summary>
    public const string AdapterConfig = "adapter_config.json";

    /// <summary>A PEFT adapter's weights (<c>ADAPTER_SAFE_WEIGHTS_NAME</c>).</summary>
    public const string AdapterWeights = "adapter_model.safetensors";

    /// <summary>The WordPiece vocabulary, one token per line.</summary>
    public const string Vocabulary = "vocab.txt";

    /// <summary>The tokenizer's settings.</summary>
    public const string TokenizerConfig = "tokenizer_config.json";

    /// <summary>The special tokens' strings.</summary>
    public const string SpecialTokensMap = "special_tokens_map.json";

    /// <summary>The fast tokenizer's full definition (Hugging Face tokenizers).</summary>
    public const string TokenizerJson = "tokenizer.json";

    /// <summary>Tokens added to the vocabulary.</summary>
    public const string AddedTokens = "added_tokens.json";

    /// <summary>A sentence-transformers folder's list of modules.</summary>
    public const string SentenceTransformersModules = "modules.json";

    /// <summary>A training checkpoint's optimizer state.</summary>
    public const string OptimizerState = "optimizer.bin";

    /// <summary>A training checkpoint's random-generator state.</summary>
    public const string RngState = "rng_state.bin";

    /// <summary>A training checkpoint's trainer state (<c>TRAINER_STATE_NAME</c>).</summary>
    public const string TrainerState = "trainer_state.json";
}
