using Bert.Sharp.Modeling;
using Bert.Sharp.Tests.Adapters;
using Bert.Sharp.Tests.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Modeling;

/// <summary>
/// TorchSharp users wrap work in their own <c>torch.NewDisposeScope()</c>; a model built, adapted or loaded inside one
/// must keep what it owns (its parameters, a served model's shared Q/K/V storage) when that scope ends, not fail on an
/// empty handle at its next forward.
/// </summary>
public sealed class DisposeScopeOwnershipTests : IDisposable
{
    private readonly string directory = TestTemp.NewDirectory("dispose-scope");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void A_classifier_built_and_given_a_lora_adapter_inside_the_callers_scope_still_runs_after_it()
    {
        float[] before;
        BertForSequenceClassification model;
        using (NewDisposeScope())
        {
            model = LoraTestModels.Classifier(seed: 11);
            LoraTestModels.AddRandomAdapter(model, "a", new LoraOptions { Rank = 2 }, seed: 12);
            before = LoraTestModels.Logits(model);
        }

        using (model)
        {
            Assert.Equal(before, LoraTestModels.Logits(model));
        }
    }

    [Fact]
    public void A_text_classifier_loaded_inside_the_callers_scope_still_predicts_the_same_after_it()
    {
        string vocab = Path.Combine(directory, "vocab.txt");
        File.WriteAllLines(vocab, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "old", "river", "park", "we", "saw", "a", "red", "fox"]);
        using (var model = SeededWeights.Apply(new BertForSequenceClassification(new BertModel(TinyConfigs.Bert(vocab: 40)), ["neg", "pos"]), 5))
        {
            model.SavePretrained(directory, BertTokenizer.FromVocabulary(vocab));
        }

        const string Text = "we saw a red fox near the old river";
        Prediction before;
        TextClassifier classifier;
        using (NewDisposeScope())
        {
            classifier = TextClassifier.FromPretrained(directory);
            before = classifier.Predict(Text);
        }

        using (classifier)
        {
            // Still served from the shared Q/K/V storage (the check that it is compares storage addresses).
            foreach (BertSelfAttention attention in classifier.Model.modules().OfType<BertSelfAttention>())
            {
                IntPtr shared = Bert.Sharp.Runtime.StorageAddress.Of(attention.Projections[0].Weight);
                Assert.All(attention.Projections, p => Assert.Equal(shared, Bert.Sharp.Runtime.StorageAddress.Of(p.Weight)));
            }

            Assert.Equal(before.Probabilities["pos"], classifier.Predict(Text).Probabilities["pos"]);
        }
    }
}
