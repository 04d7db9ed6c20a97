using System.Text.Json;
using Bert.Sharp.Tests.TestSupport;
using Bert.Sharp.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Classification;

public class BertForSequenceClassificationTests
{
    [Fact]
    public void Parameter_names_are_hugging_face_s()
    {
        using var model = new BertForSequenceClassification(TinyConfigs.Bert(), ["neg", "pos"]);
        var names = model.state_dict().Keys.ToList();
        Assert.Contains("bert.embeddings.word_embeddings.weight", names);
        Assert.Contains("bert.encoder.layer.1.output.LayerNorm.bias", names);
        Assert.Contains("bert.pooler.dense.weight", names);
        Assert.Contains("classifier.weight", names);
        Assert.Contains("classifier.bias", names);
        Assert.All(names, n => Assert.True(n.StartsWith("bert.", StringComparison.Ordinal) || n.StartsWith("classifier.", StringComparison.Ordinal), n));
        Assert.Equal(new long[] { 2, 32 }, model.state_dict()["classifier.weight"].shape);
    }

    [Fact]
    public void Save_then_load_gives_equal_logits_and_the_hugging_face_config()
    {
        string dir = TestTemp.NewDirectory("cls-save");
        using var model = new BertForSequenceClassification(TinyConfigs.Bert(), ["neg", "neu", "pos"]);
        model.eval();
        using var ids = tensor(new long[,] { { 1, 10, 11, 2, 0 }, { 1, 20, 21, 22, 2 } });
        using var mask = tensor(new long[,] { { 1, 1, 1, 1, 0 }, { 1, 1, 1, 1, 1 } });
        using var noGrad = no_grad();
        using SequenceClassifierOutput before = model.Forward(ids, mask);
        model.SavePretrained(dir);

        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json")));
        Assert.Equal("BertForSequenceClassification", config.RootElement.GetProperty("architectures")[0].GetString());
        Assert.Equal("neu", config.RootElement.GetProperty("id2label").GetProperty("1").GetString());
        Assert.Equal(2, config.RootElement.GetProperty("label2id").GetProperty("pos").GetInt32());
        Assert.Equal("single_label_classification", config.RootElement.GetProperty("problem_type").GetString());
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(dir)!, $".{Path.GetFileName(dir)}.*"));

        using var loaded = BertForSequenceClassification.FromPretrained(dir);
        Assert.Equal(["neg", "neu", "pos"], loaded.Labels);
        Assert.Empty(loaded.NewlyInitializedKeys);
        using SequenceClassifierOutput after = loaded.Forward(ids, mask);
        Assert.Equal(before.Logits.data<float>().ToArray(), after.Logits.data<float>().ToArray());
    }

    [Fact]
    public void A_base_checkpoint_gets_a_new_reported_head_and_a_head_of_another_size_is_refused()
    {
        string baseDir = TestTemp.NewDirectory("cls-base");
        using (var encoder = new BertModel(TinyConfigs.Bert()))
        {
            encoder.SavePretrained(baseDir);
        }

        Assert.Contains("labels", Assert.Throws<ArgumentException>(() => BertForSequenceClassification.FromPretrained(baseDir)).Message, StringComparison.Ordinal);
        using var fresh = BertForSequenceClassification.FromPretrained(baseDir, ["a", "b", "c"]);
        Assert.Equal(["classifier.bias", "classifier.weight"], fresh.NewlyInitializedKeys.Order(StringComparer.Ordinal));
        using var reference = BertModel.FromPretrained(baseDir);
        Assert.Equal(reference.state_dict()["encoder.layer.0.attention.self.query.weight"].data<float>().ToArray(), fresh.state_dict()["bert.encoder.layer.0.attention.self.query.weight"].data<float>().ToArray());

        string tunedDir = TestTemp.NewDirectory("cls-tuned");
        fresh.SavePretrained(tunedDir);
        var e = Assert.Throws<InvalidOperationException>(() => BertForSequenceClassification.FromPretrained(tunedDir, ["x", "y"]));
        Assert.Contains("3 labels (a, b, c)", e.Message, StringComparison.Ordinal);
        Assert.Contains("IgnoreMismatchedSizes", e.Message, StringComparison.Ordinal);
        using var replaced = BertForSequenceClassification.FromPretrained(tunedDir, ["x", "y"], new ClassifierLoadOptions { IgnoreMismatchedSizes = true });
        Assert.Equal(2, replaced.NumLabels);
        Assert.Contains("classifier.weight", replaced.NewlyInitializedKeys);
    }

    [Fact]
    public void Losses_follow_the_problem_type()
    {
        using var logits = tensor(new float[,] { { 2f, -1f }, { 0.5f, 0.25f } });
        using var single = new BertForSequenceClassification(TinyConfigs.Bert(), ["a", "b"]);
        using var multi = new BertForSequenceClassification(TinyConfigs.Bert(), ["a", "b"], ProblemType.MultiLabelClassification);
        using var regression = new BertForSequenceClassification(TinyConfigs.Bert(), ["x", "y"], ProblemType.Regression);
        double ce = (-Math.Log(Math.Exp(2) / (Math.Exp(2) + Math.Exp(-1))) - Math.Log(Math.Exp(0.25) / (Math.Exp(0.5) + Math.Exp(0.25)))) / 2;
        Assert.Equal(ce, single.ComputeLoss(logits, tensor(new long[] { 0, 1 })).item<float>(), 5);
        static double Bce(double x, double y) => -((y * Math.Log(1 / (1 + Math.Exp(-x)))) + ((1 - y) * Math.Log(1 - (1 / (1 + Math.Exp(-x))))));
        double bce = (Bce(2, 1) + Bce(-1, 0) + Bce(0.5, 1) + Bce(0.25, 1)) / 4;
        Assert.Equal(bce, multi.ComputeLoss(logits, tensor(new float[,] { { 1, 0 }, { 1, 1 } })).item<float>(), 5);
        double mse = ((1 * 1) + (1 * 1) + (0.5 * 0.5) + (0.25 * 0.25)) / 4;
        Assert.Equal(mse, regression.ComputeLoss(logits, tensor(new float[,] { { 1, 0 }, { 0, 0 } })).item<float>(), 5);
    }

    [Fact]
    public void Mean_pooling_ignores_padding_and_needs_no_pooler()
    {
        using var model = new BertForSequenceClassification(new BertModel(TinyConfigs.Bert(), addPoolingLayer: false), ["a", "b"]);
        Assert.Equal(PoolingStrategy.Mean, model.Head.Pooling);
        Assert.DoesNotContain(model.state_dict().Keys, k => k.Contains("pooler", StringComparison.Ordinal));
        model.eval();
        using var noGrad = no_grad();
        using var padded = model.Forward(tensor(new long[,] { { 1, 10, 2, 0, 0 } }), tensor(new long[,] { { 1, 1, 1, 0, 0 } }));
        using var plain = model.Forward(tensor(new long[,] { { 1, 10, 2 } }));
        Assert.Equal(plain.Logits.data<float>().ToArray(), padded.Logits.data<float>().ToArray(), new FloatTolerance(1e-5f));
        string dir = TestTemp.NewDirectory("cls-mean");
        model.SavePretrained(dir);
        using var loaded = BertForSequenceClassification.FromPretrained(dir);
        Assert.Equal(PoolingStrategy.Mean, loaded.Head.Pooling);
    }

    [Fact]
    public void Saving_into_an_unwritable_place_fails_clearly_and_leaves_nothing_behind()
    {
        string root = TestTemp.NewDirectory("cls-ro");
        string file = Path.Combine(root, "file");
        File.WriteAllText(file, "x");
        using var model = new BertForSequenceClassification(TinyConfigs.Bert(), ["a", "b"]);
        var e = Assert.Throws<UnauthorizedAccessException>(() => model.SavePretrained(Path.Combine(file, "model")));
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
        Assert.Equal([file], Directory.GetFileSystemEntries(root));
    }

    [Fact]
    public void Freezing_by_unit_with_a_plan()
    {
        using var model = new BertForSequenceClassification(TinyConfigs.Bert(layers: 3), ["a", "b"]);
        IReadOnlyList<ModelUnit> units = model.Units;
        Assert.Equal(["embeddings", "encoder.layer.0", "encoder.layer.1", "encoder.layer.2", "pooler", "classifier"], units.Select(u => u.Name));
        Assert.Equal(Enumerable.Range(0, units.Count), units.Select(u => u.Depth));
        ParameterSummary summary = model.ApplyFreezePlan(FreezePlan.TrainUnits(units.Where(u => u.LayerIndex == 2 || u.Kind == ModelUnitKind.Head)));
        Assert.All(units[1].NamedParameters(), p => Assert.False(p.Parameter.requires_grad, p.Name));
        Assert.All(units[3].NamedParameters(), p => Assert.True(p.Parameter.requires_grad, p.Name));
        Assert.Contains(summary.Parts, p => p.Part == "encoder.layer.0" && p.Trainable == 0);
        Assert.Contains(summary.Parts, p => p.Part == "encoder.layer.2" && p.Frozen == 0);
        Assert.Equal(summary.Total, model.parameters().Sum(p => p.numel()));
        Assert.Equal("encoder.layer.2, classifier", summary.TrainableParts);
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
