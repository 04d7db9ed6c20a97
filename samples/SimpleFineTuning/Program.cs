using System.Diagnostics;
using System.Globalization;
using Bert.Sharp;
using Bert.Sharp.Models;
using TorchSharp;
using static TorchSharp.torch;

// Notebook 01 of the course in C#: the smallest complete fine-tuning loop on a pretrained BERT.
// Usage: dotnet run --project samples/SimpleFineTuning [-- <model directory or Hub id>]
// The seed fixes the new head's initial weights and dropout, so every run prints the same numbers. With seed 2 the
// untrained head happens to get both sentences wrong, which makes the flip easy to see; any seed converges.
const int Seed = 2;

try
{
    var clock = Stopwatch.StartNew();
    CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;

    // 1. A pretrained BERT loaded as a sequence classifier: the encoder's weights come from the checkpoint,
    //    the two-label head on top is new (and reported as such).
    string modelDirectory = args.Length > 0 ? PretrainedResolver.ResolveDirectory(args[0]) : MiniLmModel.EnsureImported();
    torch.manual_seed(Seed);
    BertTokenizer tokenizer = BertTokenizer.FromPretrained(modelDirectory);
    using var model = BertForSequenceClassification.FromPretrained(modelDirectory, ["negative", "positive"]);

    Section("Parameters of the model (name: shape)");
    long total = 0;
    foreach ((string name, Tensor parameter) in model.named_parameters())
    {
        Console.WriteLine($"  {name}: [{string.Join(", ", parameter.shape)}]");
        total += parameter.numel();
    }

    Console.WriteLine($"  {total:N0} parameters in all.");

    // 2. Two opposite sentences, tokenized with padding to the longer one.
    string[] sentences = ["I love this phone, the screen is beautiful.", "Awful. It stopped working."];
    long[] labels = [1, 0];
    BatchEncoding batch = tokenizer.EncodeBatch(sentences, new EncodingOptions { Padding = PaddingStrategy.Longest });
    Section("Tokenized batch");
    for (int i = 0; i < sentences.Length; i++)
    {
        Console.WriteLine($"  \"{sentences[i]}\"");
        Console.WriteLine($"    tokens:          {string.Join(' ', tokenizer.ConvertIdsToTokens(batch.InputIds[i]))}");
        Console.WriteLine($"    input ids:       {string.Join(' ', batch.InputIds[i])}");
        Console.WriteLine($"    attention mask:  {string.Join(' ', batch.AttentionMask[i])}");
        Console.WriteLine($"    token type ids:  {string.Join(' ', batch.TokenTypeIds[i])}");
    }

    // 3. Forward, cross-entropy loss, backward, AdamW step: repeat until the model gets both sentences right.
    using BertInputTensors inputs = batch.ToTensors(model.Device);
    using Tensor target = tensor(labels, device: model.Device);
    using var optimizer = optim.AdamW(model.parameters(), lr: 2e-5);
    Section("Training steps (loss should fall, predictions should become: positive, negative)");
    using (no_grad())
    using (var scope = NewDisposeScope())
    {
        // Before any step: the new head is random, so predictions are a coin toss.
        model.eval();
        Tensor logits = model.Forward(inputs.InputIds, inputs.AttentionMask, inputs.TokenTypeIds).Logits;
        string[] names = [.. logits.argmax(-1).cpu().data<long>().ToArray().Select(p => model.Labels[(int)p])];
        Console.WriteLine($"  before training: loss {nn.functional.cross_entropy(logits, target).item<float>():F4}  predictions: {string.Join(", ", names)}");
    }

    model.train();
    for (int step = 1; step <= 30; step++)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        SequenceClassifierOutput output = model.Forward(inputs.InputIds, inputs.AttentionMask, inputs.TokenTypeIds, target);
        output.Loss!.backward();
        optimizer.step();
        long[] predicted = output.Logits.argmax(-1).cpu().data<long>().ToArray();
        string[] names = [.. predicted.Select(p => model.Labels[(int)p])];
        Console.WriteLine($"  step {step,2}: loss {output.Loss.item<float>():F4}  predictions: {string.Join(", ", names)}");
        if (predicted.SequenceEqual(labels) && output.Loss.item<float>() < 0.05f)
        {
            break;
        }
    }

    // 4. What each freeze policy of the course leaves trainable.
    Section("Freeze policies: trainable vs frozen parameters");
    (string Name, FreezePolicy Policy)[] policies =
    [
        ("Transfer learning (encoder frozen, head only)", FreezePolicy.TransferLearning()),
        ("Fine-tuning the last encoder layer (+ pooler, head)", FreezePolicy.FineTuneTopLayers(1)),
        ("Fine-tuning the top 3 encoder layers", FreezePolicy.FineTuneTopLayers(3)),
        ("Full fine-tuning", FreezePolicy.FullFineTuning()),
    ];
    foreach ((string name, FreezePolicy policy) in policies)
    {
        ParameterSummary summary = model.ApplyFreezePolicy(policy);
        Console.WriteLine($"  {name,-55} trainable {summary.Trainable,12:N0}   frozen {summary.Frozen,12:N0}   ({summary.TrainableFraction:P1} trainable)");
    }

    Console.WriteLine($"\nDone in {clock.Elapsed.TotalSeconds:F1} s.");
    return 0;
}
catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ArgumentException or HubException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

static void Section(string title) => Console.WriteLine($"\n== {title}");
