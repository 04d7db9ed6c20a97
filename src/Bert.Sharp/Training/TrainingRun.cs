using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Bert.Sharp.Runtime;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Training;

/// <summary>
/// One call of <see cref="FineTuner"/>'s <c>Train</c>: the loop and everything it owns (optimizer, feature caches, random
/// generator, callbacks). The loop does the work — plan, forward/backward, optimizer step, evaluation, checkpoint — and
/// callbacks react to its events (progress, logging, TensorBoard, best model, early stopping, rotation, the user's own).
/// </summary>
internal sealed partial class TrainingRun : IDisposable
{
    private readonly TrainingTask task;
    private readonly BertTaskModel model;
    private readonly FineTuningOptions options;
    private readonly TaskDataset trainSet;
    private readonly TaskDataset? validationSet;
    private readonly CancellationToken ct;
    private readonly ILogger logger;
    private readonly Stopwatch clock = new();
    private readonly Generator generator;
    private readonly List<TrainerCallback> callbacks;
    private readonly BestModelCallback bestModel;
    private readonly MixedPrecision precision;
    private readonly GradientScaler? scaler;
    private readonly bool previousCheckpointing;
    private TrainerState state = new();
    private TrainerContext context = null!;
    private TrainableOptimizer? optimizer;
    private FeatureCache? trainCache;
    private FeatureCache? validationCache;
    private LearningRateScheduler scheduler = null!;
    private Pcg32 rng = null!;
    private string? lastCheckpoint;
    private int batchesPerEpoch;
    private int totalEpochs;
    private int frozenUnits = -1;
    private bool usedCache;

    public TrainingRun(TrainingTask task, FineTuningOptions options, TaskDataset trainSet, TaskDataset? validationSet, IProgress<TrainingProgress>? progress, ILogger logger, CancellationToken ct)
    {
        this.task = task;
        model = task.Model;
        this.options = options;
        this.trainSet = trainSet;
        this.validationSet = validationSet;
        this.logger = logger;
        this.ct = ct;
        precision = MixedPrecision.Resolve(options.Precision, model.Device, $"{nameof(FineTuningOptions)}.{nameof(FineTuningOptions.Precision)}");
        scaler = precision.Effective == TrainingPrecision.Float16 ? new GradientScaler() : null;
        previousCheckpointing = model.Bert.GradientCheckpointing;
        generator = new Generator((ulong)options.Seed); // On the CPU whatever the model's device: see DeviceRandom.
        bestModel = new BestModelCallback(task, logger);
        callbacks = [new DefaultFlowCallback(), new LoggingCallback(logger)];
        if (options.TensorBoardDirectory is string board)
        {
            callbacks.Add(new TensorBoardCallback(board));
        }

        callbacks.Add(bestModel);
        if (options.EarlyStoppingPatience is int patience)
        {
            callbacks.Add(new EarlyStoppingCallback(patience, logger));
        }

        if (options.SaveTotalLimit is int limit && options.OutputDirectory is not null)
        {
            callbacks.Add(new CheckpointRotationCallback(limit));
        }

        if (progress is not null)
        {
            callbacks.Add(new ProgressCallback(progress));
        }

        callbacks.AddRange(options.Callbacks);
    }

    public TrainingReport Execute()
    {
        Plan();
        if (options.OutputDirectory is not null)
        {
            AtomicDirectory.CleanUp(options.OutputDirectory);
        }

        if (options.ResumeFromCheckpoint is null)
        {
            IReadOnlyList<string> redrawn = Modeling.UnseededInitialization.RedrawUntouched(model, options.Seed);
            string modules = string.Join(", ", redrawn);
            if (modules.Length > 0)
            {
                TrainingLog.UnseededRedrawn(logger, modules, options.Seed);
            }
        }

        options.FreezePolicy.PrepareForRun(model, options.Seed);
        if (options.ResumeFromCheckpoint is string resumeFrom)
        {
            Resume(resumeFrom);
        }
        else
        {
            Start();
        }

        context = new TrainerContext(model, options, state, clock, totalEpochs, batchesPerEpoch);
        precision.Log(logger, "Training");
        if (model.Device.type == DeviceType.CPU && MklCpuDispatch.IsTooLate)
        {
            TrainingLog.MklGenericKernels(logger, MklCpuDispatch.Status);
        }

        model.Bert.GradientCheckpointing = options.GradientCheckpointing;
        if (logger.IsEnabled(LogLevel.Information))
        {
            string trainableParts = model.GetParameterSummary().TrainableParts; // what requires grad now (an unused pooler never does)
            TrainingLog.Start(logger, trainSet.Count, totalEpochs, scheduler.TotalSteps, options.BatchSize, options.GradientAccumulationSteps, scheduler.WarmupSteps, options.FreezePolicy, trainableParts);
        }
        Fire(c => c.OnTrainBegin(context));
        clock.Start();
        bool done = state.GlobalStep >= scheduler.TotalSteps || state.StoppedEarly;
        while (!done && state.Epoch < totalEpochs)
        {
            done = RunEpoch();
        }

        clock.Stop();
        return Finish();
    }

    public void Dispose()
    {
        model.Bert.GradientCheckpointing = previousCheckpointing;
        optimizer?.Dispose();
        trainCache?.Dispose();
        validationCache?.Dispose();
        bestModel.Dispose();
        generator.Dispose();
    }

    private void Plan()
    {
        long batches = (trainSet.Count + (long)options.BatchSize - 1) / options.BatchSize;
        long updatesPerEpoch = (batches + options.GradientAccumulationSteps - 1) / options.GradientAccumulationSteps;
        long totalSteps = options.MaxSteps ?? (options.Epochs * updatesPerEpoch);
        if (totalSteps > int.MaxValue)
        {
            throw new ArgumentException($"{options.Epochs} epochs of {updatesPerEpoch} steps are {totalSteps} optimizer steps, more than a run can count ({int.MaxValue}); lower {nameof(FineTuningOptions.Epochs)} or set {nameof(FineTuningOptions.MaxSteps)}.");
        }

        batchesPerEpoch = (int)batches;
        totalEpochs = options.MaxSteps is int maxSteps ? (int)((maxSteps + updatesPerEpoch - 1) / updatesPerEpoch) : options.Epochs;
        int warmup = options.WarmupSteps ?? (int)Math.Ceiling(options.WarmupRatio * totalSteps);
        scheduler = new LearningRateScheduler(options.Schedule, warmup, (int)totalSteps);
    }

    private void Start()
    {
        rng = new Pcg32((ulong)options.Seed);
        (ulong s, ulong inc) = rng.GetState();
        state = new TrainerState
        {
            EpochRngState = s,
            EpochRngIncrement = inc,
            TotalSteps = scheduler.TotalSteps,
            BatchSize = options.BatchSize,
            GradientAccumulationSteps = options.GradientAccumulationSteps,
            TrainExamples = trainSet.Count,
            DataFingerprint = trainSet.Fingerprint,
            Seed = options.Seed,
            Precision = precision.Effective.ToString(),
        };
        ParameterSummary summary = model.ApplyFreezePolicy(options.FreezePolicy, 0);
        optimizer = TrainableOptimizer.Create(model, options);
        TrainingLog.Parameters(logger, summary.Trainable, summary.Total, summary.TrainableFraction, summary.TrainableParts);
    }

    private void Resume(string directory)
    {
        var shape = new ResumeShape(
            scheduler.TotalSteps, totalEpochs, batchesPerEpoch, options.BatchSize, options.GradientAccumulationSteps, trainSet.Count,
            trainSet.Fingerprint, options.Seed, precision.Effective.ToString(), scaler is not null);
        TrainerState saved = TrainingCheckpoint.Open(directory, shape, logger);
        TrainingCheckpoint.LoadWeights(directory, model, logger);
        model.ApplyFreezePolicy(options.FreezePolicy, saved.Epoch);
        optimizer = TrainableOptimizer.FromLayout(model, options, saved.OptimizerGroups, directory);
        TrainingCheckpoint.LoadOptimizer(directory, optimizer);
        TrainingCheckpoint.RestoreRng(directory, generator);
        if (scaler is not null)
        {
            scaler.Restore(saved.LossScaler!, directory);
        }

        state = saved;
        rng = Pcg32.FromState(state.EpochRngState, state.EpochRngIncrement);
        lastCheckpoint = directory;
        string best = Path.Combine(options.OutputDirectory ?? string.Empty, "best");
        bestModel.BestDirectory = options.OutputDirectory is not null && Directory.Exists(best) ? best : null;
        TrainingLog.Resumed(logger, directory, state.GlobalStep, state.Epoch + 1, state.BatchInEpoch);
    }

    // Runs (the rest of) epoch state.Epoch; returns true when training is over.
    private bool RunEpoch()
    {
        int epoch = state.Epoch;
        PrepareEpoch(epoch);
        rng = Pcg32.FromState(state.EpochRngState, state.EpochRngIncrement);
        List<int[]> batches = Batching.TrainingBatches(trainSet.Lengths, options.BatchSize, options.GroupByLength, rng);
        if (state.PendingEvaluation)
        {
            Evaluate(pendingOnCancel: true);
            state.PendingEvaluation = false;
        }

        Fire(c => c.OnEpochBegin(context));
        int b = state.BatchInEpoch;
        bool stop = state.StoppedEarly;
        while (!stop && b < batches.Count)
        {
            if (ct.IsCancellationRequested)
            {
                Cancel(pendingEvaluation: false);
            }

            int groupEnd = Math.Min(b + options.GradientAccumulationSteps, batches.Count);
            int groupSize = groupEnd - b;
            double lossSum = 0;
            for (; b < groupEnd; b++)
            {
                lossSum += ForwardBackward(batches[b], groupSize, epoch);
            }

            state.BatchInEpoch = b;
            OptimizerStep(lossSum / groupSize, epoch + ((double)b / batches.Count));
            Fire(c => c.OnStepEnd(context));
            ActOnControl(pendingEvaluation: true);
            stop = state.StoppedEarly || context.Control.ShouldStop || state.GlobalStep >= scheduler.TotalSteps;
        }

        if (state.StoppedEarly || context.Control.ShouldStop)
        {
            // As in Hugging Face's Trainer, an epoch cut short by a callback or early stopping still ends with OnEpochEnd,
            // and the evaluation or checkpoint it asks for runs. The position stays mid-epoch (no epoch loss is recorded,
            // the epoch does not advance), so a checkpoint written here resumes the epoch's remaining batches.
            Fire(c => c.OnEpochEnd(context));
            ActOnControl(pendingEvaluation: true);
            return true;
        }

        EndOfEpoch();
        return state.StoppedEarly || context.Control.ShouldStop || state.GlobalStep >= scheduler.TotalSteps;
    }

    private void EndOfEpoch()
    {
        Fire(c => c.OnEpochEnd(context));
        if (context.Control.ShouldEvaluate)
        {
            context.Control.ShouldEvaluate = false;
            if (validationSet is not null)
            {
                Evaluate(pendingOnCancel: false);
            }
        }

        state.EpochLosses.Add(state.EpochLossCount == 0 ? double.NaN : state.EpochLossSum / state.EpochLossCount);
        state.EpochLossSum = 0;
        state.EpochLossCount = 0;
        state.Epoch++;
        state.BatchInEpoch = 0;
        (state.EpochRngState, state.EpochRngIncrement) = rng.GetState();
        ActOnControl(pendingEvaluation: false);
    }

    private void ActOnControl(bool pendingEvaluation)
    {
        TrainerControl control = context.Control;
        if (control.ShouldEvaluate)
        {
            control.ShouldEvaluate = false;
            if (validationSet is not null)
            {
                Evaluate(pendingEvaluation);
            }
        }

        if (control.ShouldSave)
        {
            control.ShouldSave = false;
            if (options.OutputDirectory is not null)
            {
                SaveCheckpoint();
            }
        }
    }

    private void Evaluate(bool pendingOnCancel)
    {
        EvaluationReport report;
        try
        {
            if (trainCache is not null && validationCache is null)
            {
                using IDisposable? autocast = precision.Enter();
                validationCache = FeatureCache.Build(task, validationSet!, options.EvaluationBatchSize, ct);
            }

            report = Evaluation.Run(task, validationSet!, trainCache is null ? null : validationCache, options.EvaluationBatchSize, precision, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Cancel(pendingOnCancel);
            throw;
        }
        finally
        {
            SetTrainMode();
        }

        state.Evaluations.Add(new EvaluationRecord(state.GlobalStep, context.EpochProgress, report));
        Fire(c => c.OnEvaluate(context, report));
    }

    private string SaveCheckpoint()
    {
        state.OptimizerGroups = [.. optimizer!.Layout];
        state.LossScaler = scaler?.Capture();
        string directory = TrainingCheckpoint.Save(options.OutputDirectory!, task, optimizer, state, generator);
        lastCheckpoint = directory;
        TrainingLog.CheckpointSaved(logger, directory, state.GlobalStep);
        Fire(c => c.OnSave(context, directory));
        return directory;
    }

    [DoesNotReturn]
    private void Cancel(bool pendingEvaluation)
    {
        string? directory = null;
        if (options.OutputDirectory is not null)
        {
            state.PendingEvaluation = pendingEvaluation;
            directory = SaveCheckpoint();
            state.PendingEvaluation = false;
        }

        TrainingLog.Cancelled(logger, state.GlobalStep, directory ?? "(none: no OutputDirectory)");
        string where = directory is null ? "No checkpoint was written because FineTuningOptions.OutputDirectory is not set." : $"Resume with FineTuningOptions.ResumeFromCheckpoint = \"{directory}\".";
        throw new TrainingCanceledException($"Training was cancelled after step {state.GlobalStep}. {where}", directory, state.GlobalStep, ct);
    }

    private TrainingReport Finish()
    {
        Fire(c => c.OnTrainEnd(context));
        model.eval();
        double seconds = clock.Elapsed.TotalSeconds;
        double rate = context.SamplesThisCall / Math.Max(seconds, 1e-9);
        EvaluationRecord? best = state.BestMetric is null ? null : state.Evaluations.LastOrDefault(e => e.Step == state.BestStep);
        var report = new TrainingReport
        {
            GlobalStep = state.GlobalStep,
            EpochsCompleted = state.EpochLosses.Count,
            Steps = state.Steps,
            Evaluations = state.Evaluations,
            EpochLosses = state.EpochLosses,
            Best = best,
            BestModelDirectory = bestModel.BestDirectory,
            LastCheckpoint = lastCheckpoint,
            StoppedEarly = state.StoppedEarly,
            Parameters = model.GetParameterSummary(),
            Duration = clock.Elapsed,
            SamplesPerSecond = rate,
            UsedFeatureCache = usedCache,
            Precision = precision.Effective,
            RequestedPrecision = precision.Requested,
            PrecisionReason = precision.Reason,
            GradientCheckpointing = options.GradientCheckpointing,
        };
        TrainingLog.Done(logger, state.GlobalStep, seconds, rate, report.FinalLoss);
        return report;
    }

    private void Fire(Action<TrainerCallback> action)
    {
        foreach (TrainerCallback callback in callbacks)
        {
            action(callback);
        }
    }
}
