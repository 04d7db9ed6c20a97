using Bert.Sharp.Inference;

namespace Bert.Sharp.Training;

/// <summary>The built-in task models' training glue: over any text encoder (WordPiece or subword), the tokenizer optional.</summary>
internal interface IBuiltInTrainable
{
    /// <summary>The training glue of this task over <paramref name="encoder"/>; <paramref name="tokenizer"/> is saved with checkpoints.</summary>
    TrainingTask CreateTask(ITextEncoder encoder, BertTokenizer? tokenizer, FineTuningOptions options);
}
