using Bert.Sharp.TokenClassification;

namespace Bert.Sharp.Tests.TokenClassification;

public class WordPieceLabelAlignerTests
{
    private const int X = WordPieceLabelAligner.IgnoreIndex;
    private static readonly string[] Labels = ["O", "B-BRAND", "I-BRAND", "B-PRODUCT", "I-PRODUCT", "B-LOC"];

    // "I love my Motorola Razr V3c" → [CLS] i love my motor ##ola ra ##zr v ##3 ##c [SEP] [PAD]
    private static readonly int?[] WordIds = [null, 0, 1, 2, 3, 3, 4, 4, 5, 5, 5, null, null];
    private static readonly string[] WordTags = ["O", "O", "O", "B-BRAND", "B-PRODUCT", "I-PRODUCT"];

    [Fact]
    public void Labels_only_the_first_piece_of_each_word_by_default()
    {
        var aligner = new WordPieceLabelAligner(Labels);
        Assert.Equal([X, 0, 0, 0, 1, X, 3, X, 4, X, X, X, X], aligner.Align(WordIds, WordTags));
    }

    [Fact]
    public void Label_all_tokens_turns_B_into_I_after_the_first_piece()
    {
        var aligner = new WordPieceLabelAligner(Labels, labelAllTokens: true);
        Assert.Equal([X, 0, 0, 0, 1, 2, 3, 4, 4, 4, 4, X, X], aligner.Align(WordIds, WordTags));

        // A B- label without an I- partner keeps its id, as Hugging Face's b_to_i_label does.
        Assert.Equal([5, 5], aligner.Align([0, 0], ["B-LOC"]));
    }

    [Fact]
    public void Ids_and_tags_give_the_same_result()
    {
        var aligner = new WordPieceLabelAligner(Labels);
        int[] ids = [.. WordTags.Select(t => Array.IndexOf(Labels, t))];
        Assert.Equal(aligner.Align(WordIds, WordTags), aligner.Align(WordIds, ids));
    }

    [Fact]
    public void A_word_split_by_truncation_restarts_on_its_next_occurrence()
    {
        // Hugging Face compares each token's word with the previous token's, so a word seen again after a special
        // token (a second window) gets its label again on its first piece there.
        var aligner = new WordPieceLabelAligner(Labels);
        Assert.Equal([X, 1, X, X, X, 1, X], aligner.Align([null, 0, 0, null, null, 0, null], ["B-BRAND"]));
    }

    [Fact]
    public void Bad_input_names_the_token_word_or_label()
    {
        var aligner = new WordPieceLabelAligner(Labels);
        Assert.Contains("Token 2 comes from word 3", Assert.Throws<ArgumentException>(() => aligner.Align([null, 0, 3], ["O", "O"])).Message, StringComparison.Ordinal);
        Assert.Contains("'B-PER'", Assert.Throws<ArgumentException>(() => aligner.Align([0], ["B-PER"])).Message, StringComparison.Ordinal);
        Assert.Contains("label id 9", Assert.Throws<ArgumentException>(() => aligner.Align([0], [9])).Message, StringComparison.Ordinal);
        Assert.Contains("appears twice", Assert.Throws<ArgumentException>(() => new WordPieceLabelAligner(["O", "O"])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new WordPieceLabelAligner([]));
    }

    [Fact]
    public void First_piece_values_map_token_predictions_back_to_words()
    {
        int[] tokenPredictions = [0, 0, 0, 0, 1, 2, 3, 3, 4, 1, 1, 0, 0];
        Assert.Equal([0, 0, 0, 1, 3, 4], WordPieceLabelAligner.FirstPieceValues(WordIds, tokenPredictions, 6, -1));

        // Words cut off by truncation get the missing value.
        Assert.Equal([7, -1], WordPieceLabelAligner.FirstPieceValues([null, 0, null], [9, 7, 9], 2, -1));
        Assert.Throws<ArgumentException>(() => WordPieceLabelAligner.FirstPieceValues([0, 1], [1, 2], 1, -1));
        Assert.Throws<ArgumentException>(() => WordPieceLabelAligner.FirstPieceValues([0], [1, 2], 1, -1));
    }
}
