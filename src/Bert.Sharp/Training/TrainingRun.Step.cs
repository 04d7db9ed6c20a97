using System.Diagnostics;
using Bert.Sharp.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp.Training;

// One step of the run: what trains this epoch (freeze plan, optimizer groups, feature caches), forward and backward
// (gradient accumulation, mixed precision, divergence check) and the optimizer step (unscale, clip, schedule, release).
internal sealed partial class TrainingRun
{
    private void PrepareEpoch(int epoch)
    {
        bool first = frozenUnits < 0;
        if (first || options.FreezePolicy.ChangesOverEpochs)
        {
            ParameterSummary summary = model.ApplyFreezePolicy(options.FreezePolicy, epoch);
            int added = optimizer!.AddNewlyTrainable();
            if (added > 0 && !first)
            {
                TrainingLog.Unfrozen(logger, epoch + 1, summary.Trainable, summary.Total, summary.TrainableParts);
            }

            int units = FrozenPrefix();
            if (units != frozenUnits)
            {
                frozenUnits = units;
                trainCache?.Dispose();
                trainCache = null;
                validationCache?.Dispose();
                validationCache = null;
            }
        }

        int encoderUnits = model.Units.Count(u => u.Kind != ModelUnitKind.Head);
        bool useCache = frozenUnits >= encoderUnits && task.CanCacheFeatures && options.CacheFrozenFeatures && !options.DropoutInFrozenLayers;
        if (useCache && trainCache is null)
        {
            var watch = Stopwatch.StartNew();
            trainCache = BuildCache(trainSet);
            TrainingLog.FeaturesCached(logger, trainSet.Count, watch.ElapsedMilliseconds);
            usedCache = true;
        }

        SetTrainMode();
    }

    private FeatureCache BuildCache(TaskDataset data)
    {
        try
        {
            using IDisposable? autocast = precision.Enter();
            return FeatureCache.Build(task, data, options.EvaluationBatchSize, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Cancel(pendingEvaluation: false);
            throw;
        }
    }

    // How many units from the input side (embeddings, layer 0, ..., pooler) have nothing to train: they run without autograd
    // (no parameter there requires a gradient), in eval mode, and, when that is the whole encoder, once (the feature cache).
    private int FrozenPrefix()
    {
        int count = 0;
        foreach (ModelUnit unit in model.Units)
        {
            if (unit.NamedParameters().Any(p => p.Parameter.requires_grad))
            {
                break;
            }

            count++;
        }

        return count;
    }

    private void SetTrainMode()
    {
        model.train();
        if (options.DropoutInFrozenLayers || frozenUnits <= 0)
        {
            return;
        }

        // The frozen prefix is a fixed feature extractor: eval mode (no dropout), like the cached features.
        foreach (ModelUnit unit in model.Units.Take(frozenUnits))
        {
            unit.Module.eval();
        }
    }

    private double ForwardBackward(int[] batch, int groupSize, int epoch)
    {
        using var scope = NewDisposeScope();
        using DropoutRandomness.Scope randomness = DropoutRandomness.Use(generator);
        Tensor loss;
        using (IDisposable? autocast = precision.Enter())
        {
            loss = task.Forward(trainSet, batch, trainCache?.Gather(batch, model.Device)).Loss;
        }

        // The backward pass runs outside autocast (as in PyTorch); it follows the forward's dtypes and ends in fp32 gradients.
        loss = loss.dtype == ScalarType.Float32 ? loss : loss.to(ScalarType.Float32);
        double value = Runtime.HostRead.Item<float>(loss);
        if (!double.IsFinite(value))
        {
            throw new TrainingDivergedException(
                $"The training loss became {value} at step {state.GlobalStep + 1} (epoch {epoch + 1}). The parameters were not updated by this step. " +
                "Usual causes: a learning rate too high for this model (try 10x lower, or warm-up), regression targets with huge values, or a model loaded with the wrong dtype.",
                state.GlobalStep + 1,
                epoch + 1,
                value);
        }

        Tensor mean = groupSize > 1 ? Runtime.HeldScalars.Divide(loss, groupSize) : loss;
        (scaler is null ? mean : scaler.ScaleLoss(mean)).backward();
        state.EpochLossSum += value;
        state.EpochLossCount++;
        context.SamplesThisCall += batch.Length;
        return value;
    }

    private void OptimizerStep(double loss, double epochProgress)
    {
        double? norm = null;
        double learningRate;
        using (var scope = NewDisposeScope())
        {
            bool finite = scaler?.Unscale(optimizer!.Parameters) ?? true;
            if (finite && options.MaxGradNorm is double max && max > 0)
            {
                norm = nn.utils.clip_grad_norm_(optimizer!.Parameters, max);
            }

            learningRate = optimizer!.SetLearningRates(scheduler.Factor(state.GlobalStep));
            if (finite)
            {
                optimizer.Step();
            }
            else
            {
                TrainingLog.OverflowSkipped(logger, state.GlobalStep + 1, scaler!.Scale);
            }

            scaler?.Update(finite);
            model.zero_grad();
        }

        state.GlobalStep++;
        context.StepsThisCall++;
        state.Steps.Add(new TrainingStepRecord(state.GlobalStep, epochProgress, loss, learningRate, norm));
    }
}
