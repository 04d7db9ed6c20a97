using System.Globalization;

namespace Bert.Sharp.Tests.Tokenization;

public sealed class CultureIndependenceTests
{
    [Fact]
    public void Accented_words_match_Hugging_Face_in_a_Turkish_culture()
    {
        string[] texts = ["café", "naïve", "Über", "İstanbul ıI", "がぱゔ", "한국어", "ΟΔΟΣ ς", "e\u0301 o\u0308", "ǅemal Ångström"];
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("tr-TR");
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
