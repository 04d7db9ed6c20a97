using Bert.Sharp.Tokenization.Unicode;

namespace Bert.Sharp.Tests.Tokenization;

/// <summary>
/// The Unicode tables the normalizer carries, read from the data file embedded in Bert.Sharp.Core: the embedded file is
/// whole, and a damaged one is refused with the line or section at fault instead of giving other ids.
/// </summary>
public sealed class UnicodeTableFileTests
{
    private const string Minimal = """
        # a comment
        version 15.0.0
        [ClassRuns]
        1 902
        B03
        [CombiningClassRuns]
        0 30000E6
        [Decomposition]
        C0 41 300
        1D15E 1D157 1D165
        [Compatibility]
        A0 20
        [CompositionPairs]
        8200300 8200301
        [CompositionResults]
        C0 C1
        [Lowercase]
        41 61
        130 69 307
        """;

    [Fact]
    public void The_embedded_tables_are_those_of_Unicode_15_and_whole()
    {
        UnicodeTables tables = UnicodeTables.ReadEmbedded();

        Assert.Equal("15.0.0", tables.Version);
        Assert.Equal(853, tables.ClassRuns.Length);
        Assert.Equal(496, tables.CombiningClassRuns.Length);
        Assert.Equal(940, tables.CompositionPairs.Length);
        Assert.Equal(tables.CompositionPairs.Length, tables.CompositionResults.Length);
        Assert.Equal("A\u0300", tables.Decompositions[0xC0].ToString());
        Assert.Equal("i\u0307", tables.LowercaseMappings[0x130].ToString());
        Assert.Equal(" ", tables.CompatibilityDecompositions[0xA0].ToString());
        Assert.True(tables.Decompositions[0x41].IsEmpty);
    }

    [Fact]
    public void A_well_formed_file_gives_its_tables_and_supplementary_mappings_as_surrogate_pairs()
    {
        UnicodeTables tables = UnicodeTables.Read(new StringReader(Minimal), "minimal.txt");

        Assert.Equal([0x1u, 0x902u, 0xB03u], tables.ClassRuns);
        Assert.Equal([0xC0, 0xC1], tables.CompositionResults);
        Assert.Equal("\U0001D157\U0001D165", tables.Decompositions[0x1D15E].ToString());
        Assert.Equal("i\u0307", tables.LowercaseMappings[0x130].ToString());
        Assert.True(tables.LowercaseMappings[0x42].IsEmpty);
    }

    [Theory]
    [InlineData("[ClassRuns]\n1 902", "[ClassRuns]\n1 9G2", "line 4: '9G2' is not a hexadecimal number")]
    [InlineData("[Lowercase]", "[Uppercase]", "unknown section [Uppercase]")]
    [InlineData("[CompositionResults]\nC0 C1", "[CompositionResults]\nC0", "[CompositionPairs] holds 2 numbers but [CompositionResults] 1")]
    [InlineData("8200300 8200301", "8200301 8200300", "[CompositionPairs] is not in ascending order at 8200300")]
    [InlineData("C0 41 300\n1D15E", "1D15E 41 300\nC0", "[Decomposition] entry 2")]
    [InlineData("130 69 307", "130 69 110000", "[Lowercase] entry 2")]
    [InlineData("41 61\n", "41\n", "[Lowercase] entry 1")]
    [InlineData("0 30000E6", "0 1FFFFFFFF", "[CombiningClassRuns] holds 1FFFFFFFF, out of range for UInt32")]
    [InlineData("version 15.0.0\n", "", "no 'version' line")]
    [InlineData("[Compatibility]\nA0 20\n", "", "section [Compatibility] is missing")]
    [InlineData("# a comment\n", "# a comment\n7\n", "line 2: numbers before the first [section]")]
    [InlineData("[Lowercase]", "[ClassRuns]", "section [ClassRuns] appears twice")]
    public void A_damaged_file_is_refused_naming_where(string original, string damaged, string expected)
    {
        string text = Minimal.Replace(original, damaged, StringComparison.Ordinal);
        Assert.NotEqual(Minimal, text);

        var error = Assert.Throws<InvalidDataException>(() => UnicodeTables.Read(new StringReader(text), "damaged.txt"));

        Assert.StartsWith("damaged.txt", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
