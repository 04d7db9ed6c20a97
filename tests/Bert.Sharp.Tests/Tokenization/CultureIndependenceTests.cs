using System.Globalization;

namespace Bert.Sharp.Tests.Tokenization;

public sealed class CultureIndependenceTests
{
    private static bool InvariantMode =>
        Environment.GetEnvironmentVariable("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT") is "1" or "true";

    [Fact]
    public void A_run_without_ICU_really_has_no_platform_normalization()
    {
        // test.sh runs these tests a second time with DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1: that run proves something
        // only if the platform's decomposition is really gone there (string.Normalize does nothing), as in containers.
        string decomposed = "\u00e9".Normalize(System.Text.NormalizationForm.FormD);
        Assert.Equal(InvariantMode ? 1 : 2, decomposed.Length);
        Assert.Equal(["[CLS]", "cafe", "[SEP]"], HuggingFaceOracle.Uncased.Ours.ConvertIdsToTokens(HuggingFaceOracle.Uncased.Ours.Encode("café")));
    }

    [Fact]
    public void Accented_words_match_Hugging_Face_in_a_Turkish_culture()
    {
        string[] texts = ["café", "naïve", "Über", "İstanbul ıI", "がぱゔ", "한국어", "ΟΔΟΣ ς", "e\u0301 o\u0308", "ǅemal Ångström"];
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            // Without ICU (test.sh's second run) only the invariant culture exists; the texts must match all the same.
            CultureInfo.CurrentCulture = InvariantMode ? CultureInfo.InvariantCulture : new CultureInfo("tr-TR");
            foreach (HuggingFaceOracle oracle in new[] { HuggingFaceOracle.Uncased, HuggingFaceOracle.Cased })
            {
                foreach (string text in texts)
                {
                    Assert.Equal(oracle.Encode(text), oracle.Ours.Encode(text).ToArray());
                }
            }
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }
}
