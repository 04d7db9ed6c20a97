using Bert.Sharp.Inference;
using Bert.Sharp.Training;

namespace Bert.Sharp;

/// <summary>A task's examples encoded once (sequence and token classification): the inputs, their lengths and the fingerprint of the whole set.</summary>
/// <param name="inputs">The encoded examples, in the set's order.</param>
/// <param name="fingerprint">A hash of the inputs and everything the task derived from the labels.</param>
internal abstract class EncodedTaskDataset(EncodedText[] inputs, string fingerprint) : TaskDataset
{
    public EncodedText[] Inputs { get; } = inputs;

    public override int Count => Inputs.Length;

    public override IReadOnlyList<int> Lengths { get; } = [.. inputs.Select(e => e.InputIds.Length)];

    public override string Fingerprint { get; } = fingerprint;
}
