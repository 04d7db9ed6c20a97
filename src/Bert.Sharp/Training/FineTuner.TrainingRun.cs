using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Bert.Sharp.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Bert.Sharp;

public sealed partial class FineTuner
{
    /// <summary>One call of <c>Train</c>: the loop and everything it owns (optimizer, caches, writer).</summary>
    private sealed class TrainingRun : IDisposable
    {
        private readonly FineTuner owner;
        private readonly FineTuningOptions options;
        private readonly BertForSequenceClassification model;
        private readonly EncodedDataset trainSet;
        private readonly EncodedDataset? validationSet;
        private readonly IProgress<TrainingProgress>? progress;
        private readonly CancellationToken ct;
        private readonly ILogger logger;
        private readonly Stopwatch clock = new();
        private readonly int layerCount;
        private readonly int padId;
        private TrainerState state = new();
        private TrainableOptimizer? optimizer;
        private FeatureCache? trainCache;
        private FeatureCache? validationCache;
        private TorchSharp.Modules.SummaryWriter? writer;
        private LearningRateScheduler scheduler = null!;
        private Pcg32 rng = null!;
        private Dictionary<string, Tensor>? bestWeights;
        private string? lastCheckpoint;
        private string? bestDirectory;
        private int batchesPerEpoch;
        private int totalEpochs;
        private int frozenUnits = -1;
        private bool usedCache;
        private long samplesThisCall;
        private int stepsThisCall;
        private double logLossSum;
        private int logLossCount;

        public TrainingRun(FineTuner owner, EncodedDataset trainSet, EncodedDataset? validationSet, IProgress<TrainingProgress>? progress, CancellationToken ct)
        {
            this.owner = owner;
            options = owner.Options;
            model = owner.model;
            logger = owner.logger;
            this.trainSet = trainSet;
            this.validationSet = validationSet;
            this.progress = progress;
            this.ct = ct;
            layerCount = model.Bert.Layers.Count;
            padId = owner.encoder.PadTokenId;
        }

        public TrainingReport Execute()
        {
            Plan();
            if (options.ResumeFromCheckpoint is string resumeFrom)
            {
                Resume(resumeFrom);
            }
            else
            {
                Start();
            }

            TrainingLog.Start(logger, trainSet.Count, totalEpochs, scheduler.TotalSteps, options.BatchSize, options.GradientAccumulationSteps, scheduler.WarmupSteps, options.FreezePolicy);
            if (options.TensorBoardDirectory is string board)
            {
                writer = torch.utils.tensorboard.SummaryWriter(board);
            }

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
            optimizer?.Dispose();
            trainCache?.Dispose();
            validationCache?.Dispose();
            if (bestWeights is not null)
            {
                foreach (Tensor t in bestWeights.Values)
                {
                    t.Dispose();
                }
            }
        }

        private void Plan()
        {
            batchesPerEpoch = (trainSet.Count + options.BatchSize - 1) / options.BatchSize;
            int updatesPerEpoch = (batchesPerEpoch + options.GradientAccumulationSteps - 1) / options.GradientAccumulationSteps;
            int totalSteps = options.MaxSteps ?? (options.Epochs * updatesPerEpoch);
            totalEpochs = options.MaxSteps is int maxSteps ? (maxSteps + updatesPerEpoch - 1) / updatesPerEpoch : options.Epochs;
            int warmup = options.WarmupSteps ?? (int)Math.Ceiling(options.WarmupRatio * totalSteps);
            scheduler = new LearningRateScheduler(options.Schedule, warmup, totalSteps);
        }

        private void Start()
        {
            random.manual_seed(options.Seed);
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
                Seed = options.Seed,
            };
            options.FreezePolicy.Apply(model, 0);
            optimizer = TrainableOptimizer.Create(model, options);
            if (logger.IsEnabled(LogLevel.Information))
            {
                ParameterSummary summary = model.GetParameterSummary();
                TrainingLog.Parameters(logger, summary);
            }
        }

        private void Resume(string directory)
        {
            TrainerState saved = TrainingCheckpoint.ReadState(directory);
            string? mismatch =
                saved.TotalSteps != scheduler.TotalSteps ? $"total steps {saved.TotalSteps} vs {scheduler.TotalSteps}" :
                saved.BatchSize != options.BatchSize ? $"batch size {saved.BatchSize} vs {options.BatchSize}" :
                saved.GradientAccumulationSteps != options.GradientAccumulationSteps ? $"gradient accumulation {saved.GradientAccumulationSteps} vs {options.GradientAccumulationSteps}" :
                saved.TrainExamples != trainSet.Count ? $"training examples {saved.TrainExamples} vs {trainSet.Count}" :
                saved.Seed != options.Seed ? $"seed {saved.Seed} vs {options.Seed}" : null;
            if (mismatch is not null)
            {
                throw new InvalidOperationException($"Checkpoint '{directory}' belongs to a different run ({mismatch}); resume with the same options and training data.");
            }

            TrainingCheckpoint.LoadWeights(directory, model, logger);
            options.FreezePolicy.Apply(model, saved.Epoch);
            optimizer = TrainableOptimizer.FromLayout(model, options, saved.OptimizerGroups, directory);
            TrainingCheckpoint.LoadOptimizer(directory, optimizer);
            TrainingCheckpoint.RestoreRng(directory);
            state = saved;
            rng = Pcg32.FromState(state.EpochRngState, state.EpochRngIncrement);
            lastCheckpoint = directory;
            string best = Path.Combine(options.OutputDirectory ?? string.Empty, "best");
            bestDirectory = options.OutputDirectory is not null && Directory.Exists(best) ? best : null;
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
                if (validationSet is not null && options.EvaluationStrategy == IntervalStrategy.Steps && state.GlobalStep % options.EvalSteps == 0)
                {
                    Evaluate(pendingOnCancel: true);
                }

                if (options.OutputDirectory is not null && options.SaveStrategy == IntervalStrategy.Steps && state.GlobalStep % options.SaveSteps == 0)
                {
                    SaveCheckpoint();
                }

                stop = state.StoppedEarly || state.GlobalStep >= scheduler.TotalSteps;
            }

            if (state.StoppedEarly)
            {
                return true;
            }

            EndOfEpoch();
            return state.StoppedEarly || state.GlobalStep >= scheduler.TotalSteps;
        }

        private void EndOfEpoch()
        {
            if (validationSet is not null && options.EvaluationStrategy == IntervalStrategy.Epoch)
            {
                Evaluate(pendingOnCancel: false);
            }

            state.EpochLosses.Add(state.EpochLossCount == 0 ? double.NaN : state.EpochLossSum / state.EpochLossCount);
            state.EpochLossSum = 0;
            state.EpochLossCount = 0;
            state.Epoch++;
            state.BatchInEpoch = 0;
            (state.EpochRngState, state.EpochRngIncrement) = rng.GetState();
            if (options.OutputDirectory is not null && options.SaveStrategy == IntervalStrategy.Epoch)
            {
                SaveCheckpoint();
            }
        }

        private void PrepareEpoch(int epoch)
        {
            bool first = frozenUnits < 0;
            if (first || options.FreezePolicy.ChangesOverEpochs)
            {
                options.FreezePolicy.Apply(model, epoch);
                int added = optimizer!.AddNewlyTrainable();
                if (added > 0 && !first && logger.IsEnabled(LogLevel.Information))
                {
                    ParameterSummary summary = model.GetParameterSummary();
                    TrainingLog.Unfrozen(logger, epoch + 1, summary);
                }

                int units = FrozenUnits();
                if (units != frozenUnits)
                {
                    frozenUnits = units;
                    trainCache?.Dispose();
                    trainCache = null;
                    validationCache?.Dispose();
                    validationCache = null;
                }
            }

            bool useCache = frozenUnits >= layerCount + 2 && options.CacheFrozenFeatures && !options.DropoutInFrozenLayers;
            if (useCache && trainCache is null)
            {
                var watch = Stopwatch.StartNew();
                trainCache = BuildCache(trainSet);
                TrainingLog.FeaturesCached(logger, trainSet.Count, watch.ElapsedMilliseconds);
                usedCache = true;
            }

            SetTrainMode();
        }

        private FeatureCache BuildCache(EncodedDataset data)
        {
            try
            {
                return FeatureCache.Build(model, data, options.EvalBatchSize, padId, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Cancel(pendingEvaluation: false);
                throw;
            }
        }

        // How many units from the input side (embeddings, layer 0, ..., layer L-1, pooler) have nothing to train.
        private int FrozenUnits()
        {
            var trainableDepths = model.named_parameters()
                .Where(p => p.parameter.requires_grad)
                .Select(p => FreezePolicy.Depth(p.name, layerCount))
                .ToHashSet();
            bool poolerUsed = model.Head.Pooling == PoolingStrategy.Pooler;
            int count = 0;
            for (int depth = -1; depth <= layerCount; depth++)
            {
                bool frozen = depth == layerCount ? !poolerUsed || !trainableDepths.Contains(depth) : !trainableDepths.Contains(depth);
                if (!frozen)
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
            model.Bert.Embeddings.eval();
            for (int i = 0; i < Math.Min(frozenUnits - 1, layerCount); i++)
            {
                model.Bert.Layers[i].eval();
            }
        }

        private double ForwardBackward(int[] batch, int groupSize, int epoch)
        {
            using var scope = NewDisposeScope();
            Tensor logits = trainCache is null
                ? Logits(model, trainSet, batch, padId, frozenUnits)
                : model.Head.forward(trainCache.Features.index_select(0, tensor(batch.Select(i => (long)i).ToArray()).to(model.Device)));
            Tensor labels = Batching.Labels(trainSet.Examples, batch, model.ProblemType, model.NumLabels, model.Device);
            Tensor loss = model.ComputeLoss(logits, labels);
            double value = loss.item<float>();
            if (!double.IsFinite(value))
            {
                throw new TrainingDivergedException(
                    $"The training loss became {value} at step {state.GlobalStep + 1} (epoch {epoch + 1}). The parameters were not updated by this step. " +
                    "Usual causes: a learning rate too high for this model (try 10x lower, or warm-up), regression targets with huge values, or a model loaded with the wrong dtype.",
                    state.GlobalStep + 1,
                    epoch + 1,
                    value);
            }

            (groupSize > 1 ? loss / groupSize : loss).backward();
            state.EpochLossSum += value;
            state.EpochLossCount++;
            samplesThisCall += batch.Length;
            return value;
        }

        private void OptimizerStep(double loss, double epochProgress)
        {
            double? norm = null;
            double learningRate;
            using (var scope = NewDisposeScope())
            {
                if (options.MaxGradNorm is double max && max > 0)
                {
                    norm = nn.utils.clip_grad_norm_(optimizer!.Parameters, max);
                }

                learningRate = optimizer!.SetLearningRates(scheduler.Factor(state.GlobalStep));
                optimizer.Step();
                model.zero_grad();
            }

            state.GlobalStep++;
            stepsThisCall++;
            state.Steps.Add(new TrainingStepRecord(state.GlobalStep, epochProgress, loss, learningRate, norm));
            logLossSum += loss;
            logLossCount++;
            double seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            double samplesPerSecond = samplesThisCall / seconds;
            if (state.GlobalStep % options.LoggingSteps == 0 || state.GlobalStep == scheduler.TotalSteps)
            {
                double mean = logLossSum / logLossCount;
                TrainingLog.Step(logger, state.GlobalStep, scheduler.TotalSteps, epochProgress, mean, learningRate, samplesPerSecond);
                writer?.add_scalar("train/loss", (float)mean, state.GlobalStep);
                writer?.add_scalar("train/learning_rate", (float)learningRate, state.GlobalStep);
                if (norm is double n)
                {
                    writer?.add_scalar("train/grad_norm", (float)n, state.GlobalStep);
                }

                logLossSum = 0;
                logLossCount = 0;
            }

            progress?.Report(Snapshot(loss, learningRate, norm, epochProgress, null));
        }

        private TrainingProgress Snapshot(double loss, double learningRate, double? norm, double epochProgress, EvaluationReport? evaluation)
        {
            TimeSpan elapsed = clock.Elapsed;
            int remaining = scheduler.TotalSteps - state.GlobalStep;
            TimeSpan eta = stepsThisCall == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(elapsed.Ticks / stepsThisCall * remaining);
            return new TrainingProgress
            {
                Step = state.GlobalStep,
                TotalSteps = scheduler.TotalSteps,
                Epoch = Math.Min(state.Epoch, totalEpochs - 1),
                TotalEpochs = totalEpochs,
                EpochProgress = epochProgress,
                Loss = loss,
                LearningRate = learningRate,
                GradientNorm = norm,
                SamplesPerSecond = samplesThisCall / Math.Max(elapsed.TotalSeconds, 1e-9),
                Elapsed = elapsed,
                EstimatedRemaining = eta,
                Evaluation = evaluation,
            };
        }

        private void Evaluate(bool pendingOnCancel)
        {
            EvaluationReport report;
            try
            {
                if (trainCache is not null && validationCache is null)
                {
                    validationCache = FeatureCache.Build(model, validationSet!, options.EvalBatchSize, padId, ct);
                }

                report = FineTuner.Evaluate(model, validationSet!, trainCache is null ? null : validationCache, options.EvalBatchSize, padId, ct);
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

            double epochProgress = state.Epoch + ((double)state.BatchInEpoch / Math.Max(1, batchesPerEpoch));
            state.Evaluations.Add(new EvaluationRecord(state.GlobalStep, epochProgress, report));
            TrainingLog.Evaluation(logger, state.GlobalStep, epochProgress, report);
            if (writer is not null)
            {
                writer.add_scalar("eval/loss", (float)report.Loss, state.GlobalStep);
                if (!double.IsNaN(report.Accuracy))
                {
                    writer.add_scalar("eval/accuracy", (float)report.Accuracy, state.GlobalStep);
                    writer.add_scalar("eval/f1", (float)report.MacroF1, state.GlobalStep);
                }
            }

            TrackBest(report);
            TrainingStepRecord? last = state.Steps.Count > 0 ? state.Steps[^1] : null;
            progress?.Report(Snapshot(last?.Loss ?? double.NaN, last?.LearningRate ?? 0, last?.GradientNorm, epochProgress, report));
        }

        private void TrackBest(EvaluationReport report)
        {
            (double value, bool higher) = report.Metric(options.MetricForBestModel);
            bool improved = !double.IsNaN(value) && (state.BestMetric is not double best
                || (higher ? value > best + options.EarlyStoppingThreshold : value < best - options.EarlyStoppingThreshold));
            if (improved)
            {
                state.BestMetric = value;
                state.BestStep = state.GlobalStep;
                state.EvaluationsWithoutImprovement = 0;
                if (options.OutputDirectory is not null && options.SaveBestModel)
                {
                    string directory = Path.Combine(options.OutputDirectory, "best");
                    AtomicDirectory.Write(directory, temp => model.WriteFiles(temp, owner.writeTokenizer));
                    bestDirectory = directory;
                    TrainingLog.BestSaved(logger, options.MetricForBestModel, value, directory);
                }
                else if (options.LoadBestModelAtEnd)
                {
                    if (bestWeights is not null)
                    {
                        foreach (Tensor t in bestWeights.Values)
                        {
                            t.Dispose();
                        }
                    }

                    bestWeights = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone(), StringComparer.Ordinal);
                }

                return;
            }

            state.EvaluationsWithoutImprovement++;
            if (options.EarlyStoppingPatience is int patience && state.EvaluationsWithoutImprovement >= patience)
            {
                state.StoppedEarly = true;
                TrainingLog.EarlyStop(logger, state.GlobalStep, options.MetricForBestModel, patience);
            }
        }

        private string SaveCheckpoint()
        {
            state.OptimizerGroups = [.. optimizer!.Layout];
            string directory = TrainingCheckpoint.Save(options.OutputDirectory!, model, optimizer, state, owner.writeTokenizer);
            lastCheckpoint = directory;
            if (options.SaveTotalLimit is int limit)
            {
                TrainingCheckpoint.Rotate(options.OutputDirectory!, limit, directory);
            }

            TrainingLog.CheckpointSaved(logger, directory, state.GlobalStep);
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
            if (options.LoadBestModelAtEnd)
            {
                if (bestDirectory is not null)
                {
                    TrainingCheckpoint.LoadWeights(bestDirectory, model, logger);
                }
                else if (bestWeights is not null)
                {
                    using var noGrad = no_grad();
                    foreach ((string name, Tensor value) in model.state_dict())
                    {
                        value.copy_(bestWeights[name]);
                    }
                }
            }

            model.eval();
            owner.LastOptimizerStateCount = optimizer?.StateCount ?? 0;
            double seconds = clock.Elapsed.TotalSeconds;
            double rate = samplesThisCall / Math.Max(seconds, 1e-9);
            EvaluationRecord? best = state.BestMetric is null ? null : state.Evaluations.LastOrDefault(e => e.Step == state.BestStep);
            var report = new TrainingReport
            {
                GlobalStep = state.GlobalStep,
                EpochsCompleted = state.EpochLosses.Count,
                Steps = state.Steps,
                Evaluations = state.Evaluations,
                EpochLosses = state.EpochLosses,
                Best = best,
                BestModelDirectory = bestDirectory,
                LastCheckpoint = lastCheckpoint,
                StoppedEarly = state.StoppedEarly,
                Parameters = model.GetParameterSummary(),
                Duration = clock.Elapsed,
                SamplesPerSecond = rate,
                UsedFeatureCache = usedCache,
            };
            TrainingLog.Done(logger, state.GlobalStep, seconds, rate, report.FinalLoss);
            return report;
        }
    }
}
