#!/usr/bin/env python3
"""Writes tests/fixtures/tokenizer/adversarial.txt: text built to break GPT-2
pre-tokenisers (emoji/ZWJ, CJK, Vietnamese NFC and NFD, combining marks, long
whitespace runs, digits in letters, odd contractions, numbers, many scripts) plus a
seeded random mix of the same ingredients. Valid UTF-8 only (tiktoken takes strings);
only characters assigned in Unicode 15.0 (weft's tables and tiktoken's agree there).

  python3 tools/make_adversarial_text.py > tests/fixtures/tokenizer/adversarial.txt
"""
import random
import sys
import unicodedata

VIET = ("Tiếng Việt có dấu: người Nguyễn ở trường được hưởng ửng hồng, "
        "Phở bò, bánh mì, cà phê sữa đá. Quốc ngữ: ắ ằ ẳ ẵ ặ ấ ầ ẩ ẫ ậ ế ề ể ễ ệ ố ồ ổ ỗ ộ ớ ờ ở ỡ ợ ứ ừ ử ữ ự.")

FIXED = [
    "Hello world! It's a test. Don't panic; we'll see, they've gone, I'm here, you'd go, we're ok.",
    "ODD CASES: 'S 'LL 'RE 'VE 'M 'D 'T I'M DON'T we'Ve they'RE it's ''s '''ll 's't 'sss 'lll 'x ' s",
    "Quotes: 'quoted' \"double\" `tick` ‘curly’ “curly” «guillemets» ‹single›",
    "Numbers: 1,000.5 1,000,000 3.14159 -42 +7 1e10 0x1F 0b1010 12ab34 abc123def 4x4 2nd 3rd 100% $5.99 €3,50",
    "Unicode numbers: ½ ¼ ² ³ ٣٤٥ ४५६ Ⅻ ⅷ ① ⑳ 𝟘𝟙𝟚 ０１２ 〇 一二三",
    "Digits run: " + "0123456789" * 30,
    "Letters run: " + "a" * 300 + " " + "ab" * 150 + " " + "Ω" * 100,
    "Emoji: 👨‍👩‍👧‍👦 👩🏽‍💻 🏳️‍🌈 🏴‍☠️ 👍🏽 👍🏿 🇻🇳🇺🇸🇯🇵 1️⃣ #️⃣ ❤️ ☺️ 🫠 🧑‍🤝‍🧑 😀😃😄😁😆",
    "ZWJ/ZWNJ alone: a\u200db a\u200cb \u200d\u200d \ufeffBOM soft\u00adhyphen var\ufe0fsel",
    "CJK: 中文测试，这是一个句子。日本語のテキスト、カタカナとひらがな。한국어 텍스트입니다. 𠀀𠀁𪚥",
    "Vietnamese NFC: " + unicodedata.normalize("NFC", VIET),
    "Vietnamese NFD: " + unicodedata.normalize("NFD", VIET),
    "Combining: e\u0301 a\u0300\u0301\u0302\u0303\u0304 o\u0308\u0323 \u0301\u0301 start Z\u0334\u0321\u0327a\u0338l\u0337g\u0335o\u0336",
    "Scripts: Русский текст. Ελληνικά. עברית שלום. العربية مرحبا. हिन्दी नमस्ते. ไทย สวัสดี. ქართული. Հայերեն. አማርኛ.",
    "Math letters: 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐁𝐨𝐥𝐝 𝒮𝒸𝓇𝒾𝓅𝓉 Gothic 𐌰𐌱𐍈",
    "Private use: \ue000\ue001 and symbols ∑∫√∞≠≤≥ ←→↔ ♠♣♥♦ ☃ ©®™ §¶ †‡ • … ‰",
    "Specials as text: <|endoftext|> <|user|> <|assistant|><|end|> <| |> <|endoftext",
    "Code: for (int i = 0; i < n; ++i) { x[i] += y[i] * 2; } // comment\n    return 0;\n",
    "URL: https://example.com/path?q=1&r=two#frag mail@example.org C:\\Windows\\path",
    "Punctuation runs: !!!??? ... --- ___ *** ### @@@ $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}} ;;; ::: ,,,",
    "Spaces:" + " " * 200 + "end",
    "Trailing spaces then newline:    \n    \n\n\n",
    "Newlines:" + "\n" * 50 + "after",
    "Tabs:\t\t\t \t \t\t  x\t\ty",
    "CRLF line\r\nnext\r\n\r\nlast",
    "Unicode spaces: a\u00a0b\u00a0\u00a0c d\u3000\u3000e f\u2028g\u2029h i\u2003\u2009j k\u0085l m\u000bn o\u000cp",
    "Space before space-class: \u00a0word \u3000word  \u00a0x",
    "Mixed: ' 's  'll\t'd\n're\u00a0've",
]

ALPHABET = (
    list("abcXYZ019 '\n\t.,!?-_") + ["  ", "   ", "'s", "'ll", "'T", "\u00a0", "\u3000", "\u2028"]
    + list("éüñßøåçœæ") + ["e\u0301", "a\u0308", "\u0323"] + list("中文日本語한국어")
    + ["👍", "👍🏽", "\u200d", "🇻🇳", "️"] + list("ΩЖשمह") + list("½²٣४Ⅻ") + list("∑→©…«»")
)


def main():
    rng = random.Random(20240520)
    parts = list(FIXED)
    for _ in range(200):
        parts.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 60))))
    text = "\n".join(parts) + "\n"
    for ch in set(text):
        assert unicodedata.category(ch) != "Cn" or ch in "\ue000\ue001", repr(ch)
    sys.stdout.buffer.write(text.encode("utf-8"))


if __name__ == "__main__":
    main()
