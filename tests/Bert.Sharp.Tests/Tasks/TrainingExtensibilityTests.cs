using Bert.Sharp.Tests.Training;

namespace Bert.Sharp.Tests.Tasks;

/// <summary>
/// What users plug into the trainer: their own <see cref="FreezePolicy"/> (derived, deciding by unit and epoch) and their
/// own <see cref="TrainerCallback"/> (seeing every event in order, stopping the run through <see cref="TrainerControl"/>).
/// </summary>
public sealed class TrainingExtensibilityTests
{
    private static readonly FineTuningOptions Fast = new()
    {
        Epochs = 2,
        BatchSize = 8,
        LearningRate = 2e-3,
        SaveStrategy = IntervalStrategy.No,
        EvaluationStrategy = IntervalStrategy.No,
    };

    [Fact]
    public void A_user_freeze_policy_decides_which_units_train_in_each_epoch()
    {
        using BertForSequenceClassification model = ToyData.Model(layers: 3, dropout: 0.1);
        var policy = new EvenLayersThenEmbeddings();
        var before = ToyData.Snapshot(model);
        (TrainingReport report, int optimizerParameters) = ToyData.TrainCountingOptimizerParameters(model, Fast with { FreezePolicy = policy }, ToyData.Sentiment(32));
        var after = ToyData.Snapshot(model);

        Assert.Equal([0, 1], policy.EpochsPlanned.Distinct().Order());
        Assert.True(policy.Prepared > 0, "Prepare was not called");

        // After the last epoch (1): head, layers 0 and 2, and the embeddings train; layer 1 and the pooler never did.
        static bool TrainsInEpoch1(string name) =>
            name.StartsWith("classifier.", StringComparison.Ordinal) || name.StartsWith("bert.encoder.layer.0.", StringComparison.Ordinal)
            || name.StartsWith("bert.encoder.layer.2.", StringComparison.Ordinal) || name.StartsWith("bert.embeddings.", StringComparison.Ordinal);
        foreach ((string name, TorchSharp.Modules.Parameter parameter) in model.named_parameters())
        {
            Assert.Equal(TrainsInEpoch1(name), parameter.requires_grad);
            bool changed = !before[name].AsSpan().SequenceEqual(after[name]);
            if (name.StartsWith("bert.encoder.layer.1.", StringComparison.Ordinal) || name.StartsWith("bert.pooler.", StringComparison.Ordinal))
            {
                Assert.False(changed, $"frozen '{name}' changed");
            }
        }

        Assert.Contains(before.Keys, k => k.StartsWith("bert.encoder.layer.2.", StringComparison.Ordinal) && !before[k].AsSpan().SequenceEqual(after[k]));
        Assert.Contains(before.Keys, k => k.StartsWith("bert.embeddings.", StringComparison.Ordinal) && !before[k].AsSpan().SequenceEqual(after[k]));

        // The optimizer holds exactly the parameters that train by the end, and the report counts them.
        int trainable = model.named_parameters().Count(p => p.parameter.requires_grad);
        Assert.Equal(trainable, optimizerParameters);
        Assert.Equal(trainable, report.Parameters.TrainableTensors);
    }

    [Fact]
    public void A_user_freeze_policy_applies_outside_the_trainer_too()
    {
        using BertForSequenceClassification model = ToyData.Model(layers: 3);
        ParameterSummary epoch0 = model.ApplyFreezePolicy(new EvenLayersThenEmbeddings(), epoch: 0);
        Assert.Equal(model.named_parameters().Where(p => p.parameter.requires_grad).Sum(p => p.parameter.numel()), epoch0.Trainable);
        Assert.All(model.named_parameters(), p => Assert.Equal(
            p.name.StartsWith("classifier.", StringComparison.Ordinal) || p.name.StartsWith("bert.encoder.layer.0.", StringComparison.Ordinal) || p.name.StartsWith("bert.encoder.layer.2.", StringComparison.Ordinal),
            p.parameter.requires_grad));
    }

    [Fact]
    public void A_user_callback_sees_the_events_in_order()
    {
        using BertForSequenceClassification model = ToyData.Model();
        var recorder = new EventRecorder();
        TrainingReport report = ToyData.Tuner(model, Fast with { Callbacks = [recorder], EvaluationStrategy = IntervalStrategy.Epoch })
            .Train(ToyData.Sentiment(16), ToyData.Sentiment(8, seed: 5));

        Assert.Equal(4, report.GlobalStep);
        Assert.Equal(
            ["train-begin", "epoch-begin 0", "step 1", "step 2", "epoch-end 0", "evaluate 2", "epoch-begin 1", "step 3", "step 4", "epoch-end 1", "evaluate 4", "train-end 4"],
            recorder.Events);
        Assert.Equal(report.Evaluations.Select(e => e.Report.Loss), recorder.EvaluationLosses);
    }

    [Fact]
    public void A_user_callback_stops_training_through_the_control()
    {
        using BertForSequenceClassification model = ToyData.Model();
        var recorder = new EventRecorder { StopAtStep = 3 };
        TrainingReport report = ToyData.Tuner(model, Fast with { Epochs = 5, Callbacks = [recorder] }).Train(ToyData.Sentiment(16));

        Assert.Equal(3, report.GlobalStep);
        Assert.Equal(3, report.Steps.Count);
        // The epoch cut short still ends with OnEpochEnd, as Hugging Face's Trainer calls on_epoch_end after the break.
        Assert.Equal(["train-begin", "epoch-begin 0", "step 1", "step 2", "epoch-end 0", "epoch-begin 1", "step 3", "epoch-end 1", "train-end 3"], recorder.Events);
        Assert.Single(report.EpochLosses); // only the completed epoch has a loss
    }

    [Fact]
    public void An_epoch_cut_short_saves_its_epoch_checkpoint_at_the_position_reached()
    {
        using BertForSequenceClassification model = ToyData.Model();
        string output = TestSupport.TestTemp.NewDirectory("cut-short");
        var recorder = new EventRecorder { StopAtStep = 3 };
        TrainingReport report = ToyData.Tuner(model, Fast with { Epochs = 5, Callbacks = [recorder], SaveStrategy = IntervalStrategy.Epoch, OutputDirectory = output })
            .Train(ToyData.Sentiment(16));

        Assert.Equal(["step 3", "epoch-end 1", "save", "train-end 3"], recorder.Events[^4..]);
        string checkpoint = Path.Combine(output, "checkpoint-3");
        Assert.True(Directory.Exists(checkpoint), $"no {checkpoint}");
        Bert.Sharp.Training.TrainerState saved = Bert.Sharp.Training.TrainingCheckpoint.ReadState(checkpoint);
        Assert.Equal((1, 1), (saved.Epoch, saved.BatchInEpoch)); // epoch 1, one batch of two done: a resume runs the other
        Assert.Equal(3, report.GlobalStep);
    }

    /// <summary>Head and even layers from the start; from epoch 1 the embeddings too. Layer 1 (odd) never trains.</summary>
    private sealed class EvenLayersThenEmbeddings : FreezePolicy
    {
        public List<int> EpochsPlanned { get; } = [];

        public int Prepared { get; private set; }

        public override bool ChangesOverEpochs => true;

        public override void Prepare(BertTaskModel model) => Prepared++;

        public override FreezePlan Plan(IReadOnlyList<ModelUnit> units, int epoch)
        {
            EpochsPlanned.Add(epoch);
            return FreezePlan.TrainUnits(
                units.Where(u => u.Kind == ModelUnitKind.Head || u.LayerIndex % 2 == 0 || (epoch >= 1 && u.Kind == ModelUnitKind.Embeddings)),
                $"even layers (epoch {epoch})");
        }
    }

    private sealed class EventRecorder : TrainerCallback
    {
        public List<string> Events { get; } = [];

        public List<double> EvaluationLosses { get; } = [];

        public int? StopAtStep { get; init; }

        public override void OnTrainBegin(TrainerContext context) => Events.Add("train-begin");

        public override void OnEpochBegin(TrainerContext context) => Events.Add($"epoch-begin {context.Epoch}");

        public override void OnStepEnd(TrainerContext context)
        {
            Events.Add($"step {context.GlobalStep}");
            Assert.Equal(context.GlobalStep, context.LastStep!.Step);
            if (context.GlobalStep == StopAtStep)
            {
                context.Control.ShouldStop = true;
            }
        }

        public override void OnEvaluate(TrainerContext context, EvaluationReport report)
        {
            Events.Add($"evaluate {context.GlobalStep}");
            EvaluationLosses.Add(report.Loss);
        }

        public override void OnSave(TrainerContext context, string checkpointDirectory) => Events.Add("save");

        public override void OnEpochEnd(TrainerContext context) => Events.Add($"epoch-end {context.Epoch}");

        public override void OnTrainEnd(TrainerContext context) => Events.Add($"train-end {context.GlobalStep}");
    }
}
