namespace Bert.Sharp.Tests.Tokenization;

/// <summary>Hand-assembled texts covering what a BERT tokenizer meets: scripts, emoji, control and zero-width
/// characters, full-width forms, URLs, code, HTML, numbers, very long words and special tokens in text.</summary>
internal static class ConformanceCorpus
{
    private static readonly string[] Base =
    [
        "", " ", "   ", "\t\n\r", "\u00A0\u3000\u2003", "Hello, World!", "hello world", "HELLO WORLD", "Hello   World\t\tagain\n\nand\r\nagain",
        "The quick brown fox jumps over the lazy dog.", "I can't believe it's not butter!", "Don't do that; they're here, aren't they?",
        "So there is no way for me to plug it in here in the US unless I go by a converter.", "Good case, Excellent value.",
        "Great for the jawbone.", "Tied to charger for conversations lasting more than 45 minutes.MAJOR PROBLEMS!!",
        "The mic is great.", "I have to jiggle the plug to get it to line up right to get decent volume.",
        "If you have several dozen or several hundred contacts, then imagine the fun of sending each of them one by one.",
        "unaffable unbelievable antidisestablishmentarianism supercalifragilisticexpialidocious",
        // Latin with accents
        "Café naïve résumé façade coöperate jalapeño Ångström Øresund Łódź Dvořák Şişli İstanbul ĳssel ǅemal",
        "Über straße Größe Mädchen Äpfel Öl", "Ça va? Où est l'hôtel? À bientôt!", "São Paulo, Coração, ações",
        "Ĥéļļő Ŵőŗļđ", "e\u0301 a\u0300 o\u0308 n\u0303 (combining marks)", "\u1E9E\u00DF\u1E9E", "ﬁﬂ ﬀ ﬃ ligatures", "Ǆ ǅ ǆ ǈ",
        // Greek, Cyrillic
        "Ελληνικά: Καλημέρα κόσμε, ΑΘΗΝΑ ἀρχή ᾈ ῼ ΐ", "Σίσυφος ΟΔΟΣ ς σ Σ", "Русский: Привет, мир! Ёжик ЁЛКА", "Українська: Ґанок, їжак, є", "Српски: Ђорђе, Љубав, Њива",
        // Arabic, Hebrew
        "العربية: مرحبا بالعالم! هذا اختبار.", "مَرْحَبًا بِكُمْ", "עברית: שלום עולם! זה מבחן.", "שָׁלוֹם", "\u200Fمرحبا\u200E hello \u202Bembedded\u202C",
        // Devanagari, Thai and other Indic / SE Asian
        "हिन्दी: नमस्ते दुनिया। यह एक परीक्षण है।", "क्षत्रिय ज्ञान", "ภาษาไทย: สวัสดีชาวโลก นี่คือการทดสอบ", "বাংলা: হ্যালো বিশ্ব", "தமிழ்: வணக்கம்", "ქართული ენა", "Հայերեն լեզու", "ខ្មែរ ភាសា", "ພາສາລາວ", "မြန်မာ",
        // Japanese, Chinese, Korean
        "日本語: こんにちは世界！カタカナ、ひらがな、漢字。", "東京タワーは333メートルです。", "ｶﾀｶﾅ ﾊﾝｶｸ", "中文：你好，世界！这是一个测试。", "繁體中文：臺灣、香港。",
        "豈 更 車 (compatibility ideographs F900)", "𠀀𠀁𪜀𫝀𫠠𬺰 (extension ideographs)", "한국어: 안녕하세요 세계! 테스트입니다.", "ㄱㄴㄷ ᄀᄁ 힣",
        // Emoji
        "I love it 😍😍😍!", "👍🏽 👩‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ ✌🏿", "🇯🇵🇺🇸 flags", "emoji🙂inside🙃words", "🥲🫠🫶 newer emoji", "#️⃣ keycap 1️⃣",
        // Control and zero-width characters
        "zero\u200Bwidth\u200Cjoin\u200Dners\uFEFFbom", "soft\u00ADhyphen", "null\0char", "bell\u0007and\u001Bescape", "del\u007Fete", "nel\u0085line",
        "line\u2028sep\u2029para", "word\u2060joiner", "replacement \uFFFD char", "private \uE000\uF8FF use", "vs\uFE0F16", "mongolian\u180Evs",
        "tag\U000E0041chars\U000E007F", "\u0600\u0601 arabic number sign", "interlinear\uFFF9anno\uFFFBtation",
        // Full-width and compatibility forms
        "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ，ｗｉｔｈ！ｐｕｎｃｔ？", "１２３４５６７８９０", "＜ｂ＞ｂｏｌｄ＜／ｂ＞", "①②③ ⅰⅱⅲ Ⅻ", "㍿ ㌔ ㎏ ℃ ℉ № ™ ©",
        "ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｏｍ", "half ｱｲｳ and ﾟﾞ marks",
        // URLs, e-mail, code, HTML
        "https://www.example.com/path/to/page?query=1&other=two#anchor", "Visit http://t.co/AbC123 or mailto:someone@example.org",
        "C++ C# F# .NET node.js", "int main() { return a+b*c/d-e%f; }", "x <= y && y >= z || !w", "foo->bar::baz[0] = ~0u ^ 1 << 2 >> 3;",
        "var x = $\"{name}\"; // comment", "def f(*args, **kwargs): pass", "SELECT * FROM t WHERE a = 'b';", "`code` ~tilde~ ^caret^ _under_ |pipe| \\back\\",
        "<b>bold</b> <i>italic</i> <a href=\"https://x.y/z\">link</a>", "&amp; &lt; &gt; &quot; &#39; &nbsp;", "<!DOCTYPE html><html><body><p>Hi</p></body></html>",
        "{\"json\": [1, 2.5, -3e10, true, null]}", "path\\to\\file.txt /usr/local/bin", "@user #hashtag $100 €100 £50 ¥1000 ₹500 ₿0.01",
        // Numbers
        "3.14159 2,718 1e-10 -42 +7 1/2 ½ ¾ 10% 99.9%", "Phone: +1 (555) 123-4567", "2024-01-15T12:34:56Z", "0x1F600 0b1010 0o777", "١٢٣ ٤٥٦ ۷۸۹ १२३ ๑๒๓",
        "１２：３０ 12:30pm", "v1.2.3-beta+build.5", "IPv4 192.168.0.1 IPv6 ::1",
        // Punctuation of all kinds
        "¿Qué? ¡Sí! «quotes» „German“ ‚single‘ ‹angle›", "em—dash en–dash ‐ hyphen … ellipsis · middle", "“smart quotes” ‘apostrophes’ ′prime″",
        "〈〉《》「」『』【】〔〕〖〗〘〙〚〛", "。、・：；！？", "§¶†‡•‣⁂※‼⁇⁈⁉", "⸘⸮⹂⹅ newer punctuation", "a.b,c;d:e!f?g", "...!!!???---___",
        // Special tokens inside text
        "[CLS] already here [SEP] and [MASK] too", "a[SEP]b[PAD]c[UNK]d", "[cls] lower-case is not special [Sep]", "[[SEP]] [SEP[SEP]]", "[MASK][MASK][MASK]",
        // Very long words and long text
        new string('a', 99), new string('a', 100), new string('a', 101), new string('x', 250) + " short", "word" + new string('é', 98),
        string.Concat(Enumerable.Repeat("é", 101)), string.Concat(Enumerable.Repeat("😀", 60)), string.Concat(Enumerable.Repeat("日", 150)),
        "pneumonoultramicroscopicsilicovolcanoconiosis" + "pneumonoultramicroscopicsilicovolcanoconiosis" + "pneumonoultramicroscopicsilicovolcanoconiosis",
        string.Join(" ", Enumerable.Range(0, 300).Select(i => $"token{i}")),
        // Mixed
        "Mixed 日本語 and English and 한국어 and العربية in one line!", "Ｈｅｌｌｏ 世界 🌍 héllo Мир", "\u0130\u0049\u0131 dotted dotless", "K\u212A Å\u212B Ω\u2126 (singletons)",
        "ǰ ΐ ẖ ẗ ẘ ẙ ẚ", "ꭰꭱ Cherokee ᏸᏹ", "𐐀𐐁 Deseret 𐐨𐐩", "𞤀𞤁 Adlam 𞤢", "Ⓐⓑ circled", "𝐀𝐁𝐂 𝕒𝕓𝕔 math",
    ];

    /// <summary>All corpus texts (the base list plus a few derived variants).</summary>
    public static IReadOnlyList<string> Texts { get; } = Base
        .Concat(Base.Where(t => t.Length is > 0 and < 200).Select(t => t.ToUpperInvariant()))
        .Concat(Base.Where(t => t.Length is > 0 and < 200).Select(t => " " + t + " "))
        .ToArray();
}
