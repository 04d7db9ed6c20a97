using Bert.Sharp;
using static TorchSharp.torch;

// Saves two different models into one folder, alternately, until killed: model A (labels a/b, every weight 0.25) and
// model B (labels c/d, every weight 0.75). Whenever it dies, the folder must hold one of them, whole.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: SaveWorker <folder> <vocab.txt>");
    return 2;
}

BertTokenizer tokenizer = BertTokenizer.FromVocabulary(args[1]);
var config = new BertConfig { VocabSize = tokenizer.VocabularySize, HiddenSize = 32, NumHiddenLayers = 1, NumAttentionHeads = 4, IntermediateSize = 64, MaxPositionEmbeddings = 64 };
using var a = Filled(new BertForSequenceClassification(config, ["a", "b"]), 0.25f);
using var b = Filled(new BertForSequenceClassification(config, ["c", "d"]), 0.75f);
for (long i = 0; ; i++)
{
    (i % 2 == 0 ? a : b).SavePretrained(args[0], tokenizer);
    Console.WriteLine($"saved {i}");
}

static BertForSequenceClassification Filled(BertForSequenceClassification model, float value)
{
    using (no_grad())
    {
        foreach (var p in model.parameters())
        {
            p.fill_(value);
        }
    }

    return model;
}
