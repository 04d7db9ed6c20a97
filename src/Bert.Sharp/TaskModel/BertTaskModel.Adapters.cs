using Bert.Sharp.Adapters;
using Bert.Sharp.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

// The model's side of LoRA: it holds one ModelAdapters (Adapters/), tells it what the task's head and PEFT names are, and
// opens PEFT adapter folders as models.
public abstract partial class BertTaskModel : IAdapterHost
{
    /// <summary>
    /// The model's LoRA adapters (PEFT's semantics and file layout): <c>Adapters.Add</c>, <c>Load</c>, <c>Use</c>,
    /// <c>Save</c>, <c>Merge</c>, <c>Delete</c>. <see cref="FreezePolicy.LoRA(int, double, double, LoraTargets, IReadOnlyList{string}?)"/>
    /// adds one for training.
    /// </summary>
    public ModelAdapters Adapters { get; }

    /// <summary>
    /// Where the base model comes from (a folder or hub id), written to an adapter's <c>adapter_config.json</c> as
    /// <c>base_model_name_or_path</c>. Set by <c>FromPretrained</c>; set it yourself for a model built in code.
    /// </summary>
    public string? BaseModelNameOrPath { get; set; }

    /// <summary>
    /// What loading matched: the keys the checkpoint did not hold (a new head on a base checkpoint: <c>classifier.weight</c>,
    /// <c>classifier.bias</c>) and the keys it held that the model does not use (a token classifier ignores a base
    /// checkpoint's pooler). <c>null</c> for a model built in code.
    /// </summary>
    public LoadReport? LoadReport { get; internal set; }

    /// <summary>The Transformers module path of <paramref name="name"/> (a name in this model's state dict) inside PEFT's <c>base_model.model</c>.</summary>
    private protected virtual string PeftModulePath(string name) => name;

    /// <summary>PEFT's <c>task_type</c> for this task (<c>SEQ_CLS</c>, <c>TOKEN_CLS</c>, <c>FEATURE_EXTRACTION</c>); empty for a task of your own (PEFT loads it as a plain <c>PeftModel</c>).</summary>
    private protected virtual string PeftTaskType => string.Empty;

    /// <summary>What the adapter's weights file records besides tensors (labels, pooling), so the folder alone rebuilds the task.</summary>
    private protected virtual Dictionary<string, string> AdapterMetadata() => [];

    BertModel IAdapterHost.Encoder => Bert;

    nn.Module? IAdapterHost.AdapterHead => HeadModule;

    IReadOnlyList<string> IAdapterHost.AdapterHeadModules => HeadModule is not { } head ? []
        : HeadPrefix.Length > 0 ? [HeadPrefix]
        : [.. head.named_parameters().Select(p => p.name.Split('.')[0]).Distinct(StringComparer.Ordinal)];

    string IAdapterHost.AdapterHeadKey(string local) => HeadKey(local);

    IReadOnlyList<string> IAdapterHost.KeysMissingAtLoad => LoadReport?.MissingKeys ?? [];

    string IAdapterHost.PeftTaskType => PeftTaskType;

    string? IAdapterHost.BaseModelNameOrPath => BaseModelNameOrPath;

    string IAdapterHost.PeftModulePath(string name) => PeftModulePath(name);

    Dictionary<string, string> IAdapterHost.AdapterMetadata() => AdapterMetadata();

    Dictionary<string, Tensor> IAdapterHost.StateDict() => state_dict();

    void IAdapterHost.AttachHeadTo(AdapterState? adapters)
    {
        if (HeadModule is IHeadWithAdapters head)
        {
            head.Adapters = adapters;
        }
    }

    /// <summary>Whether <paramref name="directory"/> is a PEFT adapter folder (<c>adapter_config.json</c>) rather than a full model.</summary>
    internal static bool IsAdapterFolder(string directory) => File.Exists(Path.Combine(directory, PeftAdapterConfig.FileName));

    /// <summary>
    /// Opens a PEFT adapter folder as a model: the base it names (resolved, a chain of adapter folders refused) is loaded with
    /// <paramref name="loadBase"/> (the task's loader, given the task facts the folder records), then the adapter; its head
    /// replaces the new one (so the head's keys no longer count as missing) and the base is recorded. The model is disposed
    /// when the adapter does not load.
    /// </summary>
    /// <param name="directory">The adapter folder.</param>
    /// <param name="hub">Hub settings for resolving the base.</param>
    /// <param name="loadBase">The task's <c>FromPretrained</c> on the resolved base.</param>
    private protected static TModel FromAdapterFolder<TModel>(string directory, PretrainedResolveOptions? hub, Func<string, TModel> loadBase)
        where TModel : BertTaskModel
    {
        string baseModel = AdapterFolder.BaseOf(directory);
        string resolvedBase = AdapterFolder.ResolveBase(directory, hub);
        TModel model = AdapterFolder.LoadBase(directory, resolvedBase, loadBase);
        try
        {
            model.Adapters.Load(directory);
            HashSet<string> headKeys = [.. model.HeadKeys()];
            model.LoadReport = model.LoadReport is { } report ? report with { MissingKeys = [.. report.MissingKeys.Where(k => !headKeys.Contains(k))] } : null;
            model.BaseModelNameOrPath = baseModel;
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The keys of the head's parameters (<c>classifier.weight</c>; DistilBERT's <c>pre_classifier.weight</c>, ...); none for a task without a head.</summary>
    private protected string[] HeadKeys() => HeadModule is { } head ? [.. head.named_parameters().Select(p => HeadKey(p.name))] : [];

    /// <summary>The state-dict key of the head parameter <paramref name="local"/>: under <see cref="HeadPrefix"/>, or as it is when the head spans several top-level modules.</summary>
    private string HeadKey(string local) => HeadPrefix.Length > 0 ? $"{HeadPrefix}.{local}" : local;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Adapters.Release();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc />
    protected override nn.Module _to(Device device, ScalarType dtype, bool non_blocking)
    {
        nn.Module moved = base._to(device, dtype, non_blocking);
        Adapters.ConvertHeads(t => t.to(dtype, device));
        return moved;
    }

    /// <inheritdoc />
    protected override nn.Module _to(DeviceType deviceType, int deviceIndex, bool non_blocking)
    {
        nn.Module moved = base._to(deviceType, deviceIndex, non_blocking);
        Adapters.ConvertHeads(t => t.to(deviceType, deviceIndex));
        return moved;
    }

    /// <inheritdoc />
    protected override nn.Module _to(ScalarType dtype, bool non_blocking)
    {
        nn.Module moved = base._to(dtype, non_blocking);
        Adapters.ConvertHeads(t => t.to(dtype));
        return moved;
    }
}
