using System.Diagnostics;
using System.Globalization;
using Bert.Sharp;
using Bert.Sharp.Models;
using Bert.Sharp.TokenClassification;
using NamedEntityRecognition;
using TorchSharp;

// Named-entity recognition end to end: the Amazon reviews CoNLL corpus, all-MiniLM-L6-v2 with a new tagging head,
// FineTuner, entity-level (seqeval) scores on held-out sentences, save, reload with TokenClassifier, tag new text.
// Usage: dotnet run --project samples/NamedEntityRecognition -c Release -- [--model DIR] [--epochs N] [--output DIR] [--seed N]
try
{
    CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
    CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
    NerSettings settings = NerSettings.Parse(args);
    var clock = Stopwatch.StartNew();

    // 1. The corpus, split reproducibly: 80 % to train on, 20 % held out and never seen in training.
    ConllCorpus corpus = ConllReader.Read(settings.Data);
    (IReadOnlyList<TaggedSentence> train, IReadOnlyList<TaggedSentence> heldOut) = ConllReader.Split(corpus.Sentences, testFraction: 0.2, seed: settings.Seed);
    IReadOnlyList<string> tags = ConllReader.DistinctTags(corpus.Sentences);
    Section("Data");
    Console.WriteLine($"  {settings.Data}");
    Console.WriteLine($"  {corpus.Sentences.Count} sentences: {train.Count} to train on, {heldOut.Count} held out (seed {settings.Seed})");
    Console.WriteLine($"  entities: {CountEntities(train)} in training, {CountEntities(heldOut)} held out");
    Console.WriteLine($"  tags: {string.Join(" ", tags)}");

    // 2. The pretrained encoder with a new head for these tags (its initial weights fixed by the seed).
    //    --model: any supported family; its tokenizer (WordPiece, byte-level BPE, Unigram) picked as AutoTokenizer does.
    string modelDirectory = settings.Model is null ? MiniLmModel.EnsureImported() : PretrainedResolver.ResolveDirectory(settings.Model);
    torch.manual_seed(settings.Seed);
    IPretrainedTokenizer tokenizer = AutoTokenizer.FromPretrained(modelDirectory);
    using var model = BertForTokenClassification.FromPretrained(modelDirectory, tags, new ClassifierLoadOptions { Seed = settings.Seed });

    // 3. Fine-tune the top layers and the new head (a larger rate for the head: it starts from random weights and the entity
    //    tokens it must learn are rare — most sentences hold none). --layers all trains everything, --layers 0 only the head
    //    on features computed once. No validation set during training: the held-out sentences are only scored.
    var options = new FineTuningOptions
    {
        Epochs = settings.Epochs,
        BatchSize = 16,
        LearningRate = 1e-4,
        HeadLearningRate = 2e-3,
        WarmupRatio = 0.1,
        Seed = settings.Seed,
        FreezePolicy = settings.Layers switch
        {
            null => FreezePolicy.FullFineTuning(),
            0 => FreezePolicy.TransferLearning(),
            int layers => FreezePolicy.FineTuneTopLayers(layers),
        },
        EvaluationStrategy = IntervalStrategy.No,
        SaveStrategy = IntervalStrategy.No,
        GroupByLength = true,
        Callbacks = [new EpochPrinter()],
    };
    var tuner = tokenizer is SubwordTokenizer subword ? new FineTuner(model, subword, options) : new FineTuner(model, (BertTokenizer)tokenizer, options);
    Section($"Training ({options.FreezePolicy}, learning rate {options.LearningRate:G}, head {options.HeadLearningRate:G})");
    TrainingReport training = tuner.Train(train);
    Console.WriteLine($"  {training.Parameters.Trainable:N0} trainable parameters; {training.Duration.TotalSeconds:F1} s");

    // 4. Entity-level scores on the held-out sentences, as seqeval's classification_report prints them.
    EvaluationReport scores = tuner.Evaluate(heldOut);
    Section("Held-out entity scores (seqeval: an entity counts only if its type, start and end are all right)");
    Console.WriteLine($"  {"type",-10} {"precision",9} {"recall",9} {"f1",9} {"support",8}");
    foreach (ClassMetrics type in scores.PerClass)
    {
        Console.WriteLine($"  {type.Label,-10} {type.Precision,9:F3} {type.Recall,9:F3} {type.F1,9:F3} {type.Support,8}");
    }

    Console.WriteLine($"  {"micro avg",-10} {scores.EntityPrecision,9:F3} {scores.EntityRecall,9:F3} {scores.EntityF1,9:F3} {scores.PerClass.Sum(c => c.Support),8}");
    Console.WriteLine($"  token accuracy {scores.Accuracy:F4}, loss {scores.Loss:F4}");

    // 5. Save as a Hugging Face folder (Python's AutoModelForTokenClassification loads it too), then serve it.
    string output = Path.GetFullPath(settings.Output);
    if (tokenizer is SubwordTokenizer subwordTokenizer)
    {
        model.SavePretrained(output, subwordTokenizer);
    }
    else
    {
        model.SavePretrained(output, (BertTokenizer)tokenizer);
    }

    Section($"Saved to {output}; reloaded with TokenClassifier");
    // The model learned tags on the first piece of each word only (FineTuningOptions.LabelAllTokens is off), so its
    // predictions on the other pieces carry no training signal: group by word and take the first piece's tag. Simple (the
    // default, as Hugging Face's) would cut words such as "Razr" (ra ##z ##r) wherever those pieces disagree.
    using TokenClassifier tagger = TokenClassifier.FromPretrained(output);
    string[] examples =
    [
        "I bought a Motorola Razr from Verizon and it broke after a week.",
        "The Jabra headset works great with my Samsung phone.",
        "Shipped from Amazon to   Los Angeles in two days -- très rapide!",
        "My Nokia 6600 is better than the iPod, says my friend in Texas.",
    ];
    foreach (string text in examples)
    {
        Console.WriteLine($"  \"{text}\"");
        IReadOnlyList<Entity> entities = tagger.Predict(text);
        if (entities.Count == 0)
        {
            Console.WriteLine("      (no entities)");
        }

        foreach (Entity entity in entities)
        {
            Console.WriteLine($"      {entity.Group,-8} \"{entity.Text}\"  score {entity.Score:F3}  characters [{entity.Start}, {entity.End}) = \"{text[entity.Start..entity.End]}\"");
        }
    }

    Console.WriteLine($"\nHeld-out entity F1 {scores.EntityF1:F3}. Done in {clock.Elapsed.TotalSeconds:F1} s.");
    return 0;
}
catch (Exception e) when (e is ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

static int CountEntities(IEnumerable<TaggedSentence> sentences) => sentences.Sum(s => s.Tags.Count(t => t.StartsWith("B-", StringComparison.Ordinal)));

static void Section(string title) => Console.WriteLine($"\n== {title}");
