namespace Bert.Sharp.Training;

/// <summary>
/// The float16 loss scaler's state in <c>trainer_state.json</c> (<c>loss_scaler</c>; Hugging Face's Trainer keeps the same in
/// <c>scaler.pt</c>): without it a resumed run would restart at 2¹⁶ and skip steps the uninterrupted run did not.
/// </summary>
/// <param name="Scale">The current loss scale.</param>
/// <param name="CleanSteps">Clean steps since the scale last changed.</param>
/// <param name="SkippedSteps">Steps skipped so far because their gradients overflowed.</param>
internal sealed record LossScalerState(double Scale, int CleanSteps, int SkippedSteps);
