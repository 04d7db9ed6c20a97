namespace Bert.Sharp;

/// <summary>
/// A task model of your own that <see cref="FineTuner"/> can train: it hands over its task's training glue (encoding, loss,
/// metrics). The built-in task models are trainable without it.
/// </summary>
/// <example><c>public sealed class MyQa(BertModel encoder) : BertTaskModel("MyQa", encoder), ITrainableTaskModel { ... }</c></example>
public interface ITrainableTaskModel
{
    /// <summary>The training glue of this task that <see cref="FineTuner"/> runs.</summary>
    /// <param name="tokenizer">The tokenizer given to <see cref="FineTuner"/>; encode with it and return it as <see cref="TrainingTask.Tokenizer"/>.</param>
    /// <param name="options">The trainer's options.</param>
    TrainingTask CreateTrainingTask(BertTokenizer tokenizer, FineTuningOptions options);
}
