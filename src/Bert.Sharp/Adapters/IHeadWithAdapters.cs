namespace Bert.Sharp.Adapters;

/// <summary>A task head that computes with the active adapter's own copy of its weights (PEFT's <c>modules_to_save</c>).</summary>
internal interface IHeadWithAdapters
{
    /// <summary>The adapters of the model the head belongs to; <c>null</c> when the model has none.</summary>
    AdapterState? Adapters { get; set; }
}
