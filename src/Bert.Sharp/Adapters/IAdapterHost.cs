using Bert.Sharp.Modeling;
using static TorchSharp.torch;

namespace Bert.Sharp.Adapters;

/// <summary>
/// What <see cref="ModelAdapters"/> needs from the model it belongs to: the encoder whose dense layers it wraps, the task's head
/// (PEFT's <c>modules_to_save</c>) and the task's PEFT names. The task-model base implements it; adapters know no task.
/// </summary>
internal interface IAdapterHost
{
    /// <summary>The encoder whose dense layers get LoRA pairs.</summary>
    BertModel Encoder { get; }

    /// <summary>The task's head module (saved whole with each adapter), or <c>null</c> for a task without one.</summary>
    nn.Module? AdapterHead { get; }

    /// <summary>The top-level modules the head spans (<c>classifier</c>; DistilBERT's <c>pre_classifier</c> and <c>classifier</c>): PEFT's <c>modules_to_save</c>.</summary>
    IReadOnlyList<string> AdapterHeadModules { get; }

    /// <summary>The state-dict key of the head parameter named <paramref name="local"/> inside the head module.</summary>
    string AdapterHeadKey(string local);

    /// <summary>The keys the checkpoint lacked when the model was loaded (a newly initialised head); empty for a model built in code.</summary>
    IReadOnlyList<string> KeysMissingAtLoad { get; }

    /// <summary>PEFT's <c>task_type</c> (<c>SEQ_CLS</c>, <c>TOKEN_CLS</c>, <c>FEATURE_EXTRACTION</c>); empty for a task of your own.</summary>
    string PeftTaskType { get; }

    /// <summary>Where the base model comes from, written to <c>adapter_config.json</c> as <c>base_model_name_or_path</c>.</summary>
    string? BaseModelNameOrPath { get; }

    /// <summary>The Transformers module path of <paramref name="name"/> (a name in the state dict) inside PEFT's <c>base_model.model</c>.</summary>
    string PeftModulePath(string name);

    /// <summary>What the adapter's weights file records besides tensors (labels, pooling).</summary>
    Dictionary<string, string> AdapterMetadata();

    /// <summary>The model's state dict (parameters and buffers by name).</summary>
    Dictionary<string, Tensor> StateDict();

    /// <summary>Gives the head the adapters, so that each adapter computes with its own copy of the head (or none: no adapters).</summary>
    void AttachHeadTo(AdapterState? adapters);
}
