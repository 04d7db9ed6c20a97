namespace Bert.Sharp.Tests.Packaging;

/// <summary>
/// The Program.cs of the throw-away app that consumes the packed library. It does what a user's application does with
/// the package alone: a (tiny, random) BERT classifier and a tokenizer from a vocabulary file, <c>FineTuner.Train</c>
/// on a small separable data set, evaluation, save, reload with <c>TextClassifier</c>, predictions, the one-call
/// <c>FineTuner.Train(directory, ...)</c> from the saved folder, and the packaged all-MiniLM-L6-v2 loaded and run. It
/// prints <c>CONSUMER OK</c> only when every check passed; otherwise it names the failed check and exits with code 1.
/// </summary>
internal static class ConsumerProgram
{
    public const string Source = """
        using Bert.Sharp;
        using TorchSharp;

        var failures = new List<string>();
        void Check(bool condition, string what)
        {
            Console.WriteLine($"{(condition ? "ok  " : "FAIL")} {what}");
            if (!condition)
            {
                failures.Add(what);
            }
        }

        string work = Path.Combine(Path.GetTempPath(), "bert-sharp-consumer-" + Guid.NewGuid().ToString("N"));
        try
        {
            TorchRuntime.EnsureLoaded();
            Directory.CreateDirectory(work);

            // A tokenizer from a small vocabulary file, as BertTokenizer.FromVocabulary reads any vocab.txt.
            string[] positive = ["good", "great", "excellent", "nice", "love"];
            string[] negative = ["bad", "awful", "terrible", "poor", "hate"];
            string[] filler = ["the", "phone", "was", "really", "and", "screen", "battery", "it", "very", "quite", "this", "is"];
            string vocabPath = Path.Combine(work, "vocab.txt");
            File.WriteAllLines(vocabPath, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", .. positive, .. negative, .. filler]);
            BertTokenizer tokenizer = BertTokenizer.FromVocabulary(vocabPath);
            IReadOnlyList<int> ids = tokenizer.Encode("The phone was GREAT");
            Check(ids.Count == 6 && ids[0] == tokenizer.ClsTokenId && ids[^1] == tokenizer.SepTokenId && !ids.Contains(tokenizer.UnkTokenId),
                $"tokenizer encodes with [CLS]/[SEP], lower-cased: {string.Join(' ', tokenizer.ConvertIdsToTokens(ids))}");

            // A separable toy set: the label is the sentiment word in the sentence.
            var rng = new Random(1);
            List<LabeledExample> MakeSet(int count) => [.. Enumerable.Range(0, count).Select(i =>
            {
                bool isPositive = i % 2 == 0;
                var words = Enumerable.Range(0, rng.Next(2, 7)).Select(_ => filler[rng.Next(filler.Length)]).ToList();
                words.Insert(rng.Next(words.Count + 1), (isPositive ? positive : negative)[rng.Next(positive.Length)]);
                return new LabeledExample(string.Join(' ', words), isPositive ? "positive" : "negative");
            })];
            List<LabeledExample> train = MakeSet(96);
            List<LabeledExample> validation = MakeSet(40);

            // A tiny BERT classifier with a new head, trained from scratch with the full fine-tuning policy.
            torch.manual_seed(7);
            var config = new BertConfig
            {
                VocabSize = tokenizer.VocabularySize, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4,
                IntermediateSize = 64, MaxPositionEmbeddings = 32, HiddenDropoutProb = 0.0, AttentionProbsDropoutProb = 0.0,
            };
            using var model = new BertForSequenceClassification(config, ["negative", "positive"]);
            var options = new FineTuningOptions
            {
                Epochs = 12, BatchSize = 8, LearningRate = 3e-3, WarmupRatio = 0.1, MaxSequenceLength = 16,
                FreezePolicy = FreezePolicy.FullFineTuning(), Seed = 7,
            };
            var tuner = new FineTuner(model, tokenizer, options);
            var progress = new CountingProgress();
            TrainingReport report = tuner.Train(train, validation, progress);
            double firstEpochLoss = report.EpochLosses[0];
            double lastEpochLoss = report.EpochLosses[^1];
            Console.WriteLine($"trained {report.GlobalStep} steps in {report.Duration.TotalSeconds:F1} s; epoch losses {string.Join(", ", report.EpochLosses.Select(l => l.ToString("F3")))}");
            Check(report.EpochsCompleted == 12 && report.GlobalStep == 12 * 12, $"12 epochs of 12 steps ran ({report.EpochsCompleted} epochs, {report.GlobalStep} steps)");
            Check(lastEpochLoss < firstEpochLoss * 0.5, $"training loss fell by more than half ({firstEpochLoss:F3} -> {lastEpochLoss:F3})");
            Check(report.Evaluations.Count == 12, $"one evaluation per epoch ({report.Evaluations.Count})");
            Check(progress.Steps == report.GlobalStep && progress.Evaluations == 12, $"progress reported every step and evaluation ({progress.Steps} steps, {progress.Evaluations} evaluations)");

            EvaluationReport evaluation = tuner.Evaluate(validation);
            Check(evaluation.Accuracy >= 0.9, $"validation accuracy >= 90% ({evaluation.Accuracy:P1})");

            // Save in the Hugging Face layout, reload with TextClassifier, predict.
            string saved = Path.Combine(work, "model");
            model.SavePretrained(saved, tokenizer);
            Check(new[] { "config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json" }.All(f => File.Exists(Path.Combine(saved, f))),
                "SavePretrained wrote config.json, model.safetensors and the tokenizer files");
            using (var classifier = TextClassifier.FromPretrained(saved))
            {
                Check(classifier.Labels.SequenceEqual(["negative", "positive"]), $"reloaded labels: {string.Join(", ", classifier.Labels)}");
                Prediction good = classifier.Predict("the battery is really excellent");
                Prediction bad = classifier.Predict("this screen was awful");
                Console.WriteLine($"predictions: {good.Label} {good.Score:P0}, {bad.Label} {bad.Score:P0}");
                Check(good.Label == "positive" && bad.Label == "negative", "reloaded classifier predicts positive / negative on new sentences");
                Check(Math.Abs(good.Probabilities.Values.Sum() - 1f) < 1e-4f && good.Score == good.Probabilities[good.Label], "probabilities sum to 1 and Score is the label's");
                IReadOnlyList<Prediction> batch = classifier.PredictBatch(validation.Select(e => e.Text).ToList());
                double reloadedAccuracy = batch.Zip(validation).Count(p => p.First.Label == p.Second.Label) / (double)validation.Count;
                Check(Math.Abs(reloadedAccuracy - evaluation.Accuracy) < 1e-9, $"the reloaded model scores as the trained one ({reloadedAccuracy:P1})");
            }

            // The one-call path from a saved folder: transfer learning (encoder frozen, head only) on the same task.
            string second = Path.Combine(work, "second");
            TrainingReport oneCall = FineTuner.Train(saved, second, train, validation,
                new FineTuningOptions { Epochs = 2, BatchSize = 16, LearningRate = 1e-3, FreezePolicy = FreezePolicy.TransferLearning() });
            Check(oneCall.Parameters.TrainableFraction < 0.05 && oneCall.UsedFeatureCache,
                $"transfer learning trains the head only ({oneCall.Parameters.TrainableFraction:P1} trainable, feature cache {oneCall.UsedFeatureCache})");
            using (var classifier = TextClassifier.FromPretrained(second))
            {
                Check(classifier.Predict("really great and nice").Label == "positive", "FineTuner.Train(directory, output, ...) saved a working classifier");
            }

            // The packaged all-MiniLM-L6-v2 (Bert.Sharp.Models.MiniLM): extracted, loaded strictly, run once.
            string minilm = Bert.Sharp.Models.MiniLmModel.EnsureImported(Path.Combine(work, "all-MiniLM-L6-v2"));
            Check(File.Exists(Path.Combine(minilm, "model.safetensors")) && File.Exists(Path.Combine(minilm, "1_Pooling", "config.json")),
                "MiniLmModel.EnsureImported extracted the model folder");
            using (var pretrained = BertModel.FromPretrained(minilm, new BertLoadOptions { Strict = true }))
            using (var scope = torch.NewDisposeScope())
            using (var noGrad = torch.no_grad())
            {
                long[] encoded = [.. BertTokenizer.FromPretrained(minilm).Encode("The battery lasts for days.").Select(i => (long)i)];
                long[] shape = pretrained.Forward(torch.tensor(encoded, [1, encoded.Length])).LastHiddenState.shape;
                Check(shape.SequenceEqual([1L, encoded.Length, 384L]), $"all-MiniLM-L6-v2 runs: last_hidden_state [{string.Join(", ", shape)}]");
            }
        }
        catch (Exception e)
        {
            failures.Add(e.ToString());
            Console.WriteLine("FAIL " + e);
        }
        finally
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }

        if (failures.Count > 0)
        {
            Console.WriteLine($"CONSUMER FAILED: {failures.Count} check(s) failed");
            return 1;
        }

        Console.WriteLine("CONSUMER OK");
        return 0;

        internal sealed class CountingProgress : IProgress<TrainingProgress>
        {
            public int Steps { get; private set; }

            public int Evaluations { get; private set; }

            public void Report(TrainingProgress value)
            {
                if (value.Evaluation is null)
                {
                    Steps++;
                }
                else
                {
                    Evaluations++;
                }
            }
        }
        """;
}
