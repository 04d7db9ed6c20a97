using System.Reflection;

namespace Bert.Sharp.Tests.Adapters;

/// <summary>
/// Adapters are a component of the model (<c>model.Adapters</c>), as PEFT's tuner registry is: the model class has one
/// adapter member, and the component does PEFT's add / load / set / delete / merge with PEFT's outcomes.
/// </summary>
public sealed class ModelAdaptersTests
{
    private static readonly LoraOptions Options = new() { Rank = 4, Alpha = 8, Targets = LoraTargets.Query | LoraTargets.Value };

    [Fact]
    public void The_model_class_has_one_adapter_member_and_the_component_has_PEFTs_calls()
    {
        string[] adapterMembers = [.. typeof(BertTaskModel).GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Select(m => m.Name).Where(n => n.Contains("Adapter", StringComparison.Ordinal)).Distinct()];
        Assert.Equal(["Adapters", "get_Adapters"], adapterMembers.Order(StringComparer.Ordinal));

        string[] calls = [.. typeof(ModelAdapters).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).Select(m => m.Name).Distinct().Order(StringComparer.Ordinal)];
        Assert.Equal(["Add", "Delete", "Load", "Merge", "Save", "Use", "get_Active", "get_Names"], calls);
    }

    [Fact]
    public void Use_switches_between_adapters_and_the_base_and_refuses_an_unknown_name()
    {
        using BertForSequenceClassification model = LoraTestModels.Classifier();
        float[] baseLogits = LoraTestModels.Logits(model);
        LoraTestModels.AddRandomAdapter(model, "a", Options, seed: 3);
        float[] a = LoraTestModels.Logits(model);
        LoraTestModels.AddRandomAdapter(model, "b", Options, seed: 4);
        Assert.Equal("b", model.Adapters.Active);
        Assert.Equal(["a", "b"], model.Adapters.Names);

        model.Adapters.Use("a");
        LoraTestModels.AssertClose(a, LoraTestModels.Logits(model), 0);
        model.Adapters.Use(null);
        Assert.Null(model.Adapters.Active);
        LoraTestModels.AssertClose(baseLogits, LoraTestModels.Logits(model), 0);

        var unknown = Assert.Throws<KeyNotFoundException>(() => model.Adapters.Use("c"));
        Assert.Contains("'c'", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("a, b", unknown.Message, StringComparison.Ordinal);
        var noActive = Assert.Throws<InvalidOperationException>(model.Adapters.Merge);
        Assert.Contains("Use(name)", noActive.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deleting_every_adapter_gives_back_the_base_model_head_included()
    {
        using BertForSequenceClassification model = LoraTestModels.Classifier();
        float[] baseLogits = LoraTestModels.Logits(model);
        int baseParameters = model.parameters().Count();
        LoraTestModels.AddRandomAdapter(model, "a", Options, seed: 3);
        LoraTestModels.AddRandomAdapter(model, "b", Options, seed: 4);
        Assert.NotEqual(baseLogits, LoraTestModels.Logits(model));

        model.Adapters.Delete("b");
        Assert.Equal(["a"], model.Adapters.Names);
        model.Adapters.Delete("a");

        Assert.Empty(model.Adapters.Names);
        Assert.Null(model.Adapters.Active);
        Assert.Equal(baseParameters, model.parameters().Count());
        LoraTestModels.AssertClose(baseLogits, LoraTestModels.Logits(model), 0);
        Assert.Throws<KeyNotFoundException>(() => model.Adapters.Delete("a"));
    }

    [Fact]
    public void A_model_with_adapters_disposes_cleanly_and_an_adapter_saved_from_one_model_loads_into_another()
    {
        string folder = LoraTestModels.TempFolder("component");
        float[] expected;
        using (BertForSequenceClassification source = LoraTestModels.Classifier())
        {
            LoraTestModels.AddRandomAdapter(source, "task", Options, seed: 5);
            expected = LoraTestModels.Logits(source);
            source.Adapters.Save(folder);
        }

        using BertForSequenceClassification target = LoraTestModels.Classifier();
        target.Adapters.Load(folder, "task");
        Assert.Equal("task", target.Adapters.Active);
        LoraTestModels.AssertClose(expected, LoraTestModels.Logits(target), 1e-6);
        Assert.Throws<ArgumentException>(() => target.Adapters.Load(folder, "task"));
    }
}
