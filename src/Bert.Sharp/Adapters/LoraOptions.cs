namespace Bert.Sharp;

/// <summary>
/// One LoRA adapter's settings, as PEFT's <c>LoraConfig</c>: every targeted dense layer <c>W</c> gets a pair <c>A</c> [rank, in]
/// (Kaiming-uniform) and <c>B</c> [out, rank] (zeros) and computes <c>W·x + (alpha / rank)·B·A·dropout(x)</c>; the base weights stay frozen.
/// </summary>
public sealed record LoraOptions
{
    /// <summary>The rank <c>r</c> of the update (PEFT's <c>r</c>); 8 by default.</summary>
    public int Rank { get; init; } = 8;

    /// <summary>The scale numerator (PEFT's <c>lora_alpha</c>): the update is multiplied by <c>Alpha / Rank</c>; 16 by default.</summary>
    public double Alpha { get; init; } = 16;

    /// <summary>Dropout on the adapter's input only (PEFT's <c>lora_dropout</c>); 0.1 by default.</summary>
    public double Dropout { get; init; } = 0.1;

    /// <summary>Which dense layers get adapters; query and value by default.</summary>
    public LoraTargets Targets { get; init; } = LoraTargets.Default;

    /// <summary>
    /// Modules trained whole and saved with the adapter besides the task's head (PEFT's <c>modules_to_save</c>), by their name in the
    /// model's state dict, for example <c>bert.pooler</c>. The head (<c>classifier</c>) is always trained and saved.
    /// </summary>
    public IReadOnlyList<string> ModulesToSave { get; init; } = [];

    /// <summary>Scale by <c>Alpha / sqrt(Rank)</c> instead of <c>Alpha / Rank</c> (PEFT's <c>use_rslora</c>); off by default.</summary>
    public bool UseRsLora { get; init; }

    /// <summary>The multiplier of <c>B·A</c>: <c>Alpha / Rank</c> (or <c>Alpha / sqrt(Rank)</c> with <see cref="UseRsLora"/>).</summary>
    public double Scaling => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <summary>Largest <see cref="Alpha"/> accepted: a larger scale overflows float32 products (every score NaN) long before it means anything.</summary>
    internal const double MaxAlpha = 1e6;

    /// <summary>Checks the values; the message names the property at fault.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    /// <exception cref="ArgumentException">No target layer, or a null or empty module name.</exception>
    public void Validate()
    {
        if (Rank <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Rank), Rank, "The LoRA rank must be positive (8 is usual).");
        }

        if (!(Alpha > 0) || double.IsInfinity(Alpha))
        {
            throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "LoRA alpha must be a positive finite number (often twice the rank).");
        }

        if (Alpha > MaxAlpha)
        {
            throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "LoRA alpha must be at most 1e6: a larger scale overflows float32 (often alpha is twice the rank).");
        }

        if (!(Dropout >= 0 && Dropout < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "LoRA dropout must be in [0, 1).");
        }

        if ((Targets & LoraTargets.AllLinear) == LoraTargets.None)
        {
            throw new ArgumentException("LoRA needs at least one target layer (for example LoraTargets.Query | LoraTargets.Value).", nameof(Targets));
        }

        if (ModulesToSave is null || ModulesToSave.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("ModulesToSave must not be null or hold empty names.", nameof(ModulesToSave));
        }
    }
}
