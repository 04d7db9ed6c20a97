using System.CommandLine;
using SentimentAnalysis;
using Spectre.Console;

// Notebook 02 of the course in C#: sentiment analysis by fine-tuning a pretrained BERT on labelled reviews.
var model = new Option<string?>("--model", "-m") { Description = "Hugging Face model directory or Hub id of any supported family (BERT, DistilBERT: WordPiece; RoBERTa: byte-level BPE tokenizer.json; XLM-R: Unigram tokenizer.json), its tokenizer picked as AutoTokenizer does. Default: the embedded all-MiniLM-L6-v2, imported once into a local cache." };
var data = new Option<string>("--data", "-d") { Description = "Labelled data: TSV/CSV (text and label columns) or JSON Lines.", DefaultValueFactory = _ => Path.Combine(AppContext.BaseDirectory, "data", "amazon_cells_labelled.txt") };
var header = new Option<bool>("--header") { Description = "The data file's first line names its columns (then use --text-column-name / --label-column-name)." };
var textColumn = new Option<int>("--text-column") { Description = "Zero-based index of the text column (files without a header).", DefaultValueFactory = _ => 0 };
var labelColumn = new Option<int>("--label-column") { Description = "Zero-based index of the label column (files without a header).", DefaultValueFactory = _ => 1 };
var textColumnName = new Option<string?>("--text-column-name") { Description = "Name of the text column (files with a header, JSON Lines)." };
var labelColumnName = new Option<string?>("--label-column-name") { Description = "Name of the label column (files with a header, JSON Lines)." };
var epochs = new Option<int>("--epochs", "-e") { Description = "Passes over the training set.", DefaultValueFactory = _ => 4 };
var batchSize = new Option<int>("--batch-size", "-b") { Description = "Examples per optimisation step.", DefaultValueFactory = _ => 16 };
var learningRate = new Option<double>("--learning-rate", "--lr") { Description = "Peak learning rate of the encoder (AdamW, warm-up then linear decay); the new head learns 10x faster.", DefaultValueFactory = _ => 1e-4 };
var policy = new Option<string>("--policy", "-p") { Description = "Which layers learn: transfer (head only), top-layers (top N encoder layers + head), full, frozen-embeddings, gradual, lora (low-rank adapters + head).", DefaultValueFactory = _ => "top-layers" };
var topLayers = new Option<int>("--top-layers", "-n") { Description = "N for --policy top-layers (the course's notebook trains the last layer: 1), and the starting N for gradual.", DefaultValueFactory = _ => 1 };
var loraRank = new Option<int>("--lora-rank") { Description = "With --policy lora: the rank r of each adapter.", DefaultValueFactory = _ => 8 };
var loraAlpha = new Option<double>("--lora-alpha") { Description = "With --policy lora: alpha (the update is scaled by alpha / r).", DefaultValueFactory = _ => 16 };
var loraTargets = new Option<string>("--lora-targets") { Description = "With --policy lora: comma-separated layers that get adapters: query, key, value, attention-output, intermediate, output, all (every linear layer of the encoder; the tuned default here — the library's FreezePolicy.LoRA default, as PEFT's, is query,value).", DefaultValueFactory = _ => "all" };
var maxLength = new Option<int>("--max-length") { Description = "Longest tokenized input; longer texts are truncated.", DefaultValueFactory = _ => 128 };
var output = new Option<string>("--output", "-o") { Description = "Folder for the fine-tuned model, TensorBoard logs and the training-curve PNG.", DefaultValueFactory = _ => Path.Combine("output", "sentiment") };
var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto (CUDA when available).", DefaultValueFactory = _ => "auto" };
var seed = new Option<int>("--seed") { Description = "Seed of the split, initialisation, shuffling and dropout: the same seed gives the same numbers.", DefaultValueFactory = _ => 42 };
var testFraction = new Option<double>("--test-fraction") { Description = "Share of the data held out for evaluation.", DefaultValueFactory = _ => 0.2 };
var pooling = new Option<string>("--pooling") { Description = "How the head sees a text: auto (what the checkpoint says; mean for the embedded sentence-transformer), pooler, mean, cls.", DefaultValueFactory = _ => "auto" };
var labelNames = new Option<string?>("--label-names") { Description = "Comma-separated display names for the labels in sorted order (the default data's 0,1 become negative,positive)." };
var compare = new Option<bool>("--compare") { Description = "Also run transfer learning (head only) and LoRA, and print time and accuracy of the approaches side by side." };
var exportOnnx = new Option<bool>("--export-onnx") { Description = "After training, export the model to ONNX (model.onnx next to it) and print its size and held-out accuracy on ONNX Runtime." };
var int8 = new Option<bool>("--int8") { Description = "With --export-onnx: also write the int8 model (model.int8.onnx)." };
var precision = new Option<string>("--precision") { Description = "Arithmetic of training and prediction: fp32, bf16 (mixed precision; fast with AMX or a recent GPU, no gain with AVX512_BF16 alone, slow elsewhere), fp16 (CUDA only) or auto (bf16 where measured faster: AMX CPUs, GPUs of compute capability 8.0+; fp32 elsewhere).", DefaultValueFactory = _ => "fp32" };
var checkpointing = new Option<bool>("--gradient-checkpointing") { Description = "Recompute encoder layers in the backward pass: less memory, one more forward pass of compute per step." };
var texts = new Argument<string[]>("texts") { Description = "Sentences to classify with the fine-tuned model after training.", Arity = ArgumentArity.ZeroOrMore };

var root = new RootCommand("Fine-tunes a pretrained BERT for sentiment analysis (notebook 02 of the course), evaluates it, saves it, reloads it and predicts.")
{
    model, data, header, textColumn, labelColumn, textColumnName, labelColumnName, epochs, batchSize, learningRate, policy, topLayers,
    loraRank, loraAlpha, loraTargets, maxLength, output, device, seed, testFraction, pooling, labelNames, compare, exportOnnx, int8, precision, checkpointing, texts,
};

root.SetAction((parse, cancellationToken) =>
{
    var settings = new SentimentSettings
    {
        Model = parse.GetValue(model),
        Data = parse.GetValue(data)!,
        HasHeader = parse.GetValue(header),
        TextColumn = parse.GetValue(textColumn),
        LabelColumn = parse.GetValue(labelColumn),
        TextColumnName = parse.GetValue(textColumnName),
        LabelColumnName = parse.GetValue(labelColumnName),
        Epochs = parse.GetValue(epochs),
        BatchSize = parse.GetValue(batchSize),
        LearningRate = parse.GetValue(learningRate),
        LearningRateGiven = parse.GetResult(learningRate) is { Implicit: false },
        LoraRank = parse.GetValue(loraRank),
        LoraAlpha = parse.GetValue(loraAlpha),
        LoraTargets = parse.GetValue(loraTargets)!,
        Policy = parse.GetValue(policy)!,
        TopLayers = parse.GetValue(topLayers),
        MaxLength = parse.GetValue(maxLength),
        Output = parse.GetValue(output)!,
        Device = parse.GetValue(device)!,
        Seed = parse.GetValue(seed),
        TestFraction = parse.GetValue(testFraction),
        Compare = parse.GetValue(compare),
        Pooling = parse.GetValue(pooling)!,
        LabelNames = parse.GetValue(labelNames) ?? (parse.GetResult(data) is null or { Implicit: true } ? "negative,positive" : null),
        Texts = parse.GetValue(texts) ?? [],
        ExportOnnx = parse.GetValue(exportOnnx),
        Int8 = parse.GetValue(int8),
        Precision = parse.GetValue(precision)!,
        GradientCheckpointing = parse.GetValue(checkpointing),
    };

    try
    {
        return Task.FromResult(new SentimentRun(settings).Run(cancellationToken));
    }
    catch (OperationCanceledException)
    {
        AnsiConsole.MarkupLine("[yellow]Cancelled.[/]");
        return Task.FromResult(130);
    }
    catch (Exception e) when (SampleErrors.IsUserError(e))
    {
        // One line, no stack trace: the message names the file, line, column or value at fault.
        AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
        return Task.FromResult(1);
    }
});

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
