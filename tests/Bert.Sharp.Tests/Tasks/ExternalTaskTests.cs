using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Bert.Sharp.Tests.Tasks;

/// <summary>
/// A task added from outside the library with public API only — extractive question answering (start/end logits over the
/// tokens, Hugging Face's <c>BertForQuestionAnswering</c> head and loss) — trained by <see cref="FineTuner"/>, decoded into
/// answers, saved and loaded back. docs/architecture.md shows the same code as its "add a task" recipe.
/// </summary>
public sealed class ExternalTaskTests : IDisposable
{
    private static readonly string[] Colors = ["red", "blue", "green"];
    private static readonly string[] Animals = ["fox", "cat", "dog"];
    private static readonly string[] Filler = ["the", "a", "we", "saw", "near", "old", "river", "park", "today", "walked"];
    private readonly string directory = TestSupport.TestTemp.NewDirectory("external-task");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void A_question_answering_task_from_outside_trains_predicts_and_round_trips()
    {
        BertTokenizer tokenizer = Tokenizer();
        List<QaExample> train = Examples(64, seed: 1), test = Examples(16, seed: 2);
        using QaModel model = TestSupport.SeededWeights.Apply(new QaModel(new BertModel(TestSupport.TinyConfigs.Bert(), addPoolingLayer: false)), seed: 5);
        var tuner = new FineTuner(model, tokenizer, new FineTuningOptions { Epochs = 10, BatchSize = 8, LearningRate = 5e-3, SaveStrategy = IntervalStrategy.No, EvaluationStrategy = IntervalStrategy.No });

        EvaluationReport before = tuner.Evaluate(test);
        TrainingReport report = tuner.Train(train);
        EvaluationReport after = tuner.Evaluate(test);

        Assert.True(report.EpochLosses[^1] < report.EpochLosses[0] / 4, $"epoch losses {string.Join(", ", report.EpochLosses)}");
        Assert.True(after.Loss < before.Loss / 4, $"evaluation loss {before.Loss} -> {after.Loss}");
        Assert.True(before.Accuracy < 0.5 && after.Accuracy > 0.9, $"exact match {before.Accuracy} -> {after.Accuracy}");
        string[] answers = [.. test.Select(e => model.Answer(tokenizer, e.Question, e.Context))];
        Assert.True(answers.Where((a, i) => a == test[i].Answer).Count() >= 14, $"answers: {string.Join(" | ", answers)}");

        string saved = Path.Combine(directory, "qa");
        model.SavePretrained(saved, tokenizer);
        using QaModel reloaded = QaModel.FromPretrained(saved);
        BertTokenizer reloadedTokenizer = BertTokenizer.FromPretrained(saved);
        Assert.Empty(reloaded.LoadReport!.MissingKeys);
        Assert.Contains("\"BertForQuestionAnswering\"", File.ReadAllText(Path.Combine(saved, "config.json")), StringComparison.Ordinal);
        Assert.Equal(answers, test.Select(e => reloaded.Answer(reloadedTokenizer, e.Question, e.Context)));
    }

    [Fact]
    public void A_task_model_without_a_training_task_is_refused_naming_its_type()
    {
        using var model = new HeadlessModel(new BertModel(TestSupport.TinyConfigs.Bert(), addPoolingLayer: false));
        var e = Assert.Throws<NotSupportedException>(() => new FineTuner(model, Tokenizer()));
        Assert.Contains("HeadlessModel defines no training task", e.Message, StringComparison.Ordinal);
    }

    private BertTokenizer Tokenizer()
    {
        string vocab = Path.Combine(directory, "vocab.txt");
        File.WriteAllLines(vocab, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "which", "animal", .. Filler, .. Colors, .. Animals]);
        return BertTokenizer.FromVocabulary(vocab);
    }

    private static List<QaExample> Examples(int count, int seed)
    {
        var rng = new Random(seed);
        var examples = new List<QaExample>();
        for (int i = 0; i < count; i++)
        {
            string answer = $"{Colors[rng.Next(Colors.Length)]} {Animals[rng.Next(Animals.Length)]}";
            var words = Enumerable.Range(0, rng.Next(4, 9)).Select(_ => Filler[rng.Next(Filler.Length)]).ToList();
            words.Insert(rng.Next(words.Count + 1), answer);
            examples.Add(new QaExample("which animal", string.Join(' ', words), answer));
        }

        return examples;
    }

    private sealed class HeadlessModel(BertModel encoder) : BertTaskModel(nameof(HeadlessModel), encoder)
    {
        protected override nn.Module? HeadModule => null;
    }
}

/// <summary>A question, the context that holds its answer, and the answer (a span of the context).</summary>
public sealed record QaExample(string Question, string Context, string Answer);

/// <summary>The model: the encoder and a linear head giving a start and an end logit per token (<c>qa_outputs</c>).</summary>
public sealed class QaModel : BertTaskModel, ITrainableTaskModel
{
#pragma warning disable IDE1006, SA1300 // The field name is the checkpoint key, as in Hugging Face's BertForQuestionAnswering.
    private readonly Linear qa_outputs;
#pragma warning restore IDE1006, SA1300

    public QaModel(BertModel encoder) : base(nameof(QaModel), encoder)
    {
        qa_outputs = nn.Linear(encoder.Config.HiddenSize, 2);
        RegisterComponents();
    }

    protected override nn.Module HeadModule => qa_outputs;

    protected override string HeadName => "qa_outputs";

    protected override BertConfig ConfigToSave => Bert.Config with { Architectures = ["BertForQuestionAnswering"] };

    public static QaModel FromPretrained(string directory) => LoadPretrained(directory, config => new QaModel(new BertModel(config, addPoolingLayer: false)));

    /// <summary>Start and end logits [batch, tokens, 2].</summary>
    public Tensor Logits(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        using BertModelOutput output = Bert.Forward(inputIds, attentionMask, tokenTypeIds);
        return qa_outputs.call(output.LastHiddenState).MoveToOuterDisposeScope();
    }

    /// <summary>Decoding: the context span (at most 4 tokens) with the highest start + end logit, as text.</summary>
    public string Answer(BertTokenizer tokenizer, string question, string context)
    {
        BatchEncoding encoding = tokenizer.EncodeBatch([question], [context], new EncodingOptions { Padding = PaddingStrategy.None });
        int[] ids = encoding.InputIds[0], types = encoding.TokenTypeIds[0];
        eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor logits = Logits(tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length]).to(Device), null, tensor(types.Select(t => (long)t).ToArray(), [1, ids.Length]).to(Device));
        float[] start = logits[0].select(-1, 0).cpu().data<float>().ToArray(), end = logits[0].select(-1, 1).cpu().data<float>().ToArray();
        (int From, int To, float Score) best = (0, 0, float.NegativeInfinity);
        for (int s = 0; s < ids.Length - 1; s++)
        {
            for (int e = s; e < Math.Min(s + 4, ids.Length - 1) && types[s] == 1; e++)
            {
                best = start[s] + end[e] > best.Score ? (s, e, start[s] + end[e]) : best;
            }
        }

        return tokenizer.Decode(ids[best.From..(best.To + 1)]);
    }

    public TrainingTask CreateTrainingTask(BertTokenizer tokenizer, FineTuningOptions options) => new QaTask(this, tokenizer);
}

/// <summary>The training glue: encoding with answer spans, HF's loss (mean of start and end cross-entropy), exact-match accuracy.</summary>
public sealed class QaTask(QaModel model, BertTokenizer tokenizer) : TrainingTask<QaExample>
{
    public override BertTaskModel Model => model;

    public override BertTokenizer? Tokenizer => tokenizer;

    public override TaskDataset Encode(IReadOnlyList<QaExample> examples, string setName, int maxLength, ILogger logger)
    {
        BatchEncoding encoding = tokenizer.EncodeBatch([.. examples.Select(e => e.Question)], [.. examples.Select(e => e.Context)], new EncodingOptions { Padding = PaddingStrategy.None, MaxLength = maxLength });
        var spans = new (int Start, int End)[examples.Count];
        for (int i = 0; i < spans.Length; i++)
        {
            int[] answer = [.. tokenizer.ConvertTokensToIds(tokenizer.Tokenize(examples[i].Answer))], ids = encoding.InputIds[i];
            int start = Enumerable.Range(0, ids.Length - answer.Length + 1).FirstOrDefault(s => encoding.TokenTypeIds[i][s] == 1 && ids.AsSpan(s, answer.Length).SequenceEqual(answer), -1);
            spans[i] = start >= 0 ? (start, start + answer.Length - 1) : throw new ArgumentException($"{setName} example #{i}: the answer '{examples[i].Answer}' is not in its context.");
        }

        return new QaSet(encoding, spans);
    }

    public override (Tensor Loss, Tensor Outputs) Forward(TaskDataset data, int[] batch, Tensor? features)
    {
        var set = (QaSet)data;
        (Tensor ids, Tensor mask, Tensor types) = Collate(set.Encoding, batch, tokenizer.PadTokenId, model.Device);
        Tensor logits = model.Logits(ids, mask, types);
        Tensor starts = tensor(batch.Select(i => (long)set.Spans[i].Start).ToArray()).to(model.Device), ends = tensor(batch.Select(i => (long)set.Spans[i].End).ToArray()).to(model.Device);
        Tensor loss = (nn.functional.cross_entropy(logits.select(-1, 0), starts) + nn.functional.cross_entropy(logits.select(-1, 1), ends)) / 2;
        return (loss, logits);
    }

    public override EvaluationAccumulator StartEvaluation(TaskDataset data) => new ExactMatch((QaSet)data);

    private sealed class QaSet(BatchEncoding encoding, (int Start, int End)[] spans) : TaskDataset
    {
        public BatchEncoding Encoding => encoding;

        public (int Start, int End)[] Spans => spans;

        public override int Count => spans.Length;

        public override IReadOnlyList<int> Lengths { get; } = [.. encoding.InputIds.Select(ids => ids.Length)];

        public override string Fingerprint { get; } = Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join(';', encoding.InputIds.Select((ids, i) => $"{string.Join(',', ids)}:{spans[i]}")))));
    }

    // Share of examples whose arg-max start and end are both the answer's.
    private sealed class ExactMatch(QaSet set) : EvaluationAccumulator
    {
        private int correct;

        public override void Add(int[] batch, Tensor outputs)
        {
            long[] best = outputs.argmax(1).cpu().data<long>().ToArray(); // [batch, 2]: start, end
            correct += batch.Where((index, r) => best[2 * r] == set.Spans[index].Start && best[(2 * r) + 1] == set.Spans[index].End).Count();
        }

        public override EvaluationReport Finish(double meanLoss) => new() { Count = set.Count, Loss = meanLoss, Labels = [], Accuracy = (double)correct / set.Count };
    }
}
