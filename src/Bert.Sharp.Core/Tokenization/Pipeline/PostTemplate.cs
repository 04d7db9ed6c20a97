namespace Bert.Sharp.Tokenization;

/// <summary>
/// A post-processor as special tokens around the sequences: <c>Prefix $A Middle $B Suffix</c> (a pair) and
/// <c>SinglePrefix $A SingleSuffix</c>, with the type id of each part (RobertaProcessing and the usual TemplateProcessing).
/// </summary>
internal sealed record PostTemplate(
    int[] SinglePrefix,
    int[] SingleSuffix,
    int TypeA,
    int[] PairPrefix,
    int[] PairMiddle,
    int[] PairSuffix,
    int PairTypeA,
    int PairTypeB);
