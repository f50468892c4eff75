"""Numbers (an adequacy signal, free): every number the source writes in digits must come back
in the translation with the same value — ``$103.7 million`` as ``1.037亿`` or ``103,7 Millionen``,
not ``103.7亿``; ``66%`` not as ``6.6%``; ``21 October`` not as ``2010年10月``.

Each language reads its own way (``CONVENTIONS``): its decimal mark (``1,4 Milliarden`` is 1.4e9,
``6.000`` is 6000 in German), its scale words (``million``, ``bn``, ``Mrd``, ``млн``, ``万``,
``億`` ...; ``m``, ``k`` and ``b`` only after a currency sign, where they cannot be metres) and
Chinese amounts written in parts (``16萬8千``). On the translation's side numbers written out
count too — Chinese numerals (``八周``, ``百分之六十六``, ``二〇一五年``), English number words
(``eight weeks``, ``a billion``) and month names (``4月`` as ``April``). A number the source
spells out is not required: Chinese writes ``一`` in words that are not numbers. For a language
missing from ``CONVENTIONS`` the check cannot tell (None).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from parallelner.records import primary_language


@dataclass(frozen=True)
class Conventions:
    """How a language writes numbers: its decimal mark and its scale words (lower case)."""

    decimal: str
    scales: dict[str, float]


_EN = {"thousand": 1e3, "million": 1e6, "millions": 1e6, "billion": 1e9, "billions": 1e9,
       "trillion": 1e12, "mn": 1e6, "bn": 1e9, "tn": 1e12}  # fmt: skip
_ZH = {"百万": 1e6, "千万": 1e7, "十亿": 1e9, "万亿": 1e12, "万": 1e4, "亿": 1e8, "千": 1e3}
_ZH |= {k.replace("万", "萬").replace("亿", "億"): v for k, v in _ZH.items()}
_OWN: dict[str, Conventions] = {
    "en": Conventions(".", _EN),
    "zh": Conventions(".", _ZH),
    "yue": Conventions(".", _ZH),
    "ja": Conventions(".", {"万": 1e4, "億": 1e8, "千": 1e3, "兆": 1e12}),
    "de": Conventions(",", {"tausend": 1e3, "mio": 1e6, "million": 1e6, "millionen": 1e6,
                            "mrd": 1e9, "milliarde": 1e9, "milliarden": 1e9, "billion": 1e12,
                            "billionen": 1e12}),
    "pt": Conventions(",", {"mil": 1e3, "milhão": 1e6, "milhões": 1e6, "bilhão": 1e9,
                            "bilhões": 1e9, "bi": 1e9, "mi": 1e6}),
    "ru": Conventions(",", {"тыс": 1e3, "тысяч": 1e3, "тысячи": 1e3, "тысяча": 1e3, "млн": 1e6,
                            "миллион": 1e6, "миллиона": 1e6, "миллионов": 1e6, "млрд": 1e9,
                            "миллиард": 1e9, "миллиарда": 1e9, "миллиардов": 1e9}),
    "sv": Conventions(",", {"tusen": 1e3, "miljon": 1e6, "miljoner": 1e6, "mn": 1e6,
                            "miljard": 1e9, "miljarder": 1e9, "md": 1e9, "mdr": 1e9}),
    "fr": Conventions(",", {"mille": 1e3, "million": 1e6, "millions": 1e6, "milliard": 1e9,
                            "milliards": 1e9, "md": 1e9}),
    "es": Conventions(",", {"mil": 1e3, "millón": 1e6, "millones": 1e6, "billón": 1e12}),
}  # fmt: skip
# English scale words are read in every language written with Latin or Cyrillic letters ($221bn
# kept as written), after the language's own (German "Billion" stays 1e12).
CONVENTIONS = {
    lang: c if lang in ("zh", "yue", "ja") else Conventions(c.decimal, _EN | c.scales)
    for lang, c in _OWN.items()
}
_CURRENCY_SCALES = {"k": 1e3, "m": 1e6, "b": 1e9}
_CURRENCY = "$€£¥₽"
# digits with group or decimal marks (a space groups only before exactly three digits)
_MARK = re.compile(r"[.,，\s\u00a0\u202f]")
_DIGITS = re.compile(r"\d+(?:(?:[.,，]|[ \u00a0\u202f](?=\d{3}(?!\d)))\d+)*")
_SCALE_AFTER = re.compile(r"[ \u00a0]?([^\W\d_]+\.?)")
_ZH_SCALE_AFTER = re.compile(r"[百千十]?[万萬亿億兆]|千(?![瓦米克])")  # 千瓦 is a kilowatt
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_SECTIONS = {"万": 1e4, "萬": 1e4, "亿": 1e8, "億": 1e8}
_ZH_NUMERAL = re.compile(r"[零〇一二两兩三四五六七八九十百千万萬亿億]+")
_MONTH_NAMES = [
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
]  # fmt: skip
_MONTH_NUMBER = {n: i for i, name in enumerate(_MONTH_NAMES, 1) for n in (name, name[:3])}
_MONTH_NUMBER["sept"] = 9
_MONTHS = re.compile(rf"\b({'|'.join(sorted(_MONTH_NUMBER, key=len, reverse=True))})\b", re.I)
_UNITS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
]  # fmt: skip
_TENS = ["thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_EN_WORDS = {w: i for i, w in enumerate(_UNITS)} | {w: 10 * i for i, w in enumerate(_TENS, 3)}
_EN_WORDS["a"] = 1  # "a billion"; alone it is no number (a scale word must follow)
_WORD = "|".join(sorted(_EN_WORDS, key=len, reverse=True))
_EN_NUMBER_WORD = re.compile(
    rf"\b(?P<num>(?:{_WORD})(?:-(?:{_WORD}))?)(?:\s(?P<word>hundred|thousand|million|billion))?\b",
    re.IGNORECASE,
)
_EN_WORD_SCALES = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_EN_ORDINALS = [
    "zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
    "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
    "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth",
]  # fmt: skip
# Word stems of numbers (cardinal and ordinal) in the other languages, matched at a word's
# start so compounds and case forms count (zweimonatigen, восемнадцатилетней, tredje); one is
# left out, its stems (ein, um, en) begin too many words.
_STEMS: dict[str, dict[str, int]] = {
    "de": {"zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "sieb": 7,
           "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwölf": 12, "dreizehn": 13,
           "vierzehn": 14, "fünfzehn": 15, "sechzehn": 16, "siebzehn": 17, "achtzehn": 18,
           "neunzehn": 19, "zwanzig": 20, "dreißig": 30, "vierzig": 40, "fünfzig": 50,
           "sechzig": 60, "siebzig": 70, "achtzig": 80, "neunzig": 90, "hundert": 100,
           "zweit": 2, "dritt": 3},
    "pt": {"dois": 2, "duas": 2, "três": 3, "quatro": 4, "cinco": 5, "seis": 6, "sete": 7,
           "oito": 8, "nove": 9, "dez": 10, "onze": 11, "doze": 12, "vinte": 20, "cem": 100,
           "segund": 2, "terceir": 3, "quart": 4, "quint": 5, "sext": 6, "sétim": 7,
           "oitav": 8, "non": 9, "décim": 10},
    "es": {"dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8,
           "nueve": 9, "diez": 10, "once": 11, "doce": 12, "veinte": 20, "cien": 100,
           "segund": 2, "tercer": 3, "cuart": 4, "quint": 5},
    "fr": {"deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
           "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "vingt": 20, "cent": 100,
           "second": 2, "troisième": 3},
    "sv": {"två": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6, "sju": 7, "åtta": 8, "nio": 9,
           "tio": 10, "elva": 11, "tolv": 12, "tjugo": 20, "hundra": 100, "andra": 2,
           "tredje": 3, "fjärde": 4, "femte": 5, "sjätte": 6, "sjunde": 7, "åttonde": 8,
           "nionde": 9, "tionde": 10, "arton": 18, "sjutton": 17, "sexton": 16, "femton": 15},
    "ru": {"два": 2, "две": 2, "двух": 2, "втор": 2, "три": 3, "трёх": 3, "трех": 3,
           "трет": 3, "четыр": 4, "четвер": 4, "пят": 5, "шест": 6, "сем": 7, "седьм": 7,
           "восем": 8, "восьм": 8, "девят": 9, "десят": 10, "одиннадцат": 11,
           "двенадцат": 12, "тринадцат": 13, "четырнадцат": 14, "пятнадцат": 15,
           "шестнадцат": 16, "семнадцат": 17, "восемнадцат": 18, "девятнадцат": 19,
           "двадцат": 20, "тридцат": 30, "сорок": 40, "пятьдесят": 50, "шестьдесят": 60,
           "сто": 100, "перв": 1},
}  # fmt: skip
_ROMAN = re.compile(
    r"\b(?=[MDCLXVI]{2,}\b)M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})\b"
)
_ROMAN_VALUE = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}
_DECADE = re.compile(r"\b(\d{2})?(\d0)(?:s|’s|'s|-х|-e)\b")  # 1960s, 60s, 1960-х: also "60"
# A source number whose form other languages write another way is not required: ordinals
# (3rd, 13. Jahrhundert), decades and centuries (1960s, 60s, 700-talet, 20世纪, 60年代).
_NOT_REQUIRED_AFTER = re.compile(
    r"(?:st|nd|rd|th|s|’s|'s|-х|-е|-talet|-tal|er)\b|\.\s\w|年代|世纪|世紀|e\b"
)


@dataclass(frozen=True)
class _Number:
    shown: str  # as written
    values: tuple[float, ...]  # what it can mean (one, unless its marks are ambiguous)
    scale: float  # 1 without a scale word
    end: int


def _readings(digits: str, decimal: str) -> tuple[float, ...]:
    """What ``digits`` can mean in a language whose decimal mark is ``decimal``. Marks before
    the last must group threes (``1,234,567``); the last one groups when it is a space or
    repeats them, is decimal when fewer or more than three digits follow, and alone before
    three digits is read the language's way first and the other way too (``1.500``)."""
    parts = _MARK.split(digits)
    marks = ["," if m == "，" else m for m in _MARK.findall(digits)]
    if not marks:
        return (float(digits),)
    *head, last = marks
    if len(set(head)) > 1 or any(len(p) != 3 for p in parts[1:-1]):
        return ()  # 1.2.3, 12.34.56: a date or a version, not an amount
    whole, tail = "".join(parts[:-1]), parts[-1]
    grouped, point = float(whole + tail), float(f"{whole}.{tail}")
    if last.isspace() or (head and last == head[0]):
        return (grouped,)
    if head or len(tail) != 3:
        return (point,)
    return (point, grouped) if last == decimal else (grouped, point)


def _numbers(text: str, conv: Conventions) -> list[_Number]:
    """The numbers ``text`` writes with digits, with their scale words."""
    found: list[_Number] = []
    for m in _DIGITS.finditer(text):
        values = _readings(m.group(0), conv.decimal)
        if not values:
            continue
        end, scale = m.end(), 1.0
        zh = _ZH_SCALE_AFTER.match(text, end)
        word = _SCALE_AFTER.match(text, end)
        if zh and zh.group(0) in conv.scales:
            end, scale = zh.end(), conv.scales[zh.group(0)]
        elif word and word.group(1).rstrip(".").lower() in conv.scales:
            end, scale = word.end(), conv.scales[word.group(1).rstrip(".").lower()]
        elif word and m.start() > 0 and text[m.start() - 1] in _CURRENCY:
            short = word.group(1).lower()
            if short in _CURRENCY_SCALES and word.start(1) == end:  # $5m, not "$5 more"
                end, scale = word.end(), _CURRENCY_SCALES[short]
        start = m.start() - (m.start() > 0 and text[m.start() - 1] in _CURRENCY)
        shown = text[start:end].strip().rstrip(".")
        last = found[-1] if found else None
        if last and last.end == m.start() and 1 < scale < last.scale:  # 16萬8千: one amount
            merged = tuple(a + b * scale for a in last.values for b in values)
            found[-1] = _Number(last.shown + shown, merged, last.scale, end)
            continue
        found.append(_Number(shown, tuple(v * scale for v in values), scale, end))
    return found


def _chinese_numeral(run: str) -> float | None:
    """The value of a run of Chinese numerals (``六十六``, ``两百万``, ``二〇一五``)."""
    if not any(ch in _ZH_UNITS or ch in _ZH_SECTIONS for ch in run):  # read digit by digit
        digits = "".join(str(_ZH_DIGITS[ch]) for ch in run if ch in _ZH_DIGITS)
        return float(digits) if digits else None
    total, section, digit = 0.0, 0.0, None
    for ch in run:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch in _ZH_UNITS:
            section += (1 if digit is None else digit) * _ZH_UNITS[ch]
            digit = None
        else:  # 万 or 亿 closes a section
            section += digit or 0
            scale = _ZH_SECTIONS[ch]
            total = (total + section) * scale if scale == 1e8 else total + section * scale
            section, digit = 0.0, None
    return total + section + (digit or 0)


def _roman(numeral: str) -> float:
    digits = [_ROMAN_VALUE[ch] for ch in numeral]
    return float(sum(-d if d < n else d for d, n in zip(digits, [*digits[1:], 0], strict=True)))


def _spelled_values(text: str, lang: str) -> list[float]:
    """Numbers a text writes another way: Chinese numerals, number words (English, and the
    stems of ``_STEMS``), Roman numerals (século XVI), month names, decades (1960s: 60)."""
    values = [v for run in _ZH_NUMERAL.findall(text) if (v := _chinese_numeral(run)) is not None]
    values += [_roman(m.group(0)) for m in _ROMAN.finditer(text)]
    values += [float(m[2]) for m in _DECADE.finditer(text)]
    lowered = text.lower()
    values += [float(i) for i, w in enumerate(_EN_ORDINALS) if re.search(rf"\b{w}\b", lowered)]
    values += [float(v) for stem, v in _STEMS.get(lang, {}).items()
               if re.search(rf"\b{stem}", lowered)]  # fmt: skip
    for m in _EN_NUMBER_WORD.finditer(text):
        if m["num"].lower() == "a" and not m["word"]:
            continue
        value = float(sum(_EN_WORDS[p.lower()] for p in m["num"].split("-")))
        values.append(value * (_EN_WORD_SCALES[m["word"].lower()] if m["word"] else 1))
    values.extend(float(_MONTH_NUMBER[m.lower()]) for m in _MONTHS.findall(text))  # 4月: April
    return values


def applies(src_lang: str, tgt_lang: str) -> bool:
    """Whether the check can tell for this pair (both languages' conventions are known)."""
    return primary_language(src_lang) in CONVENTIONS and primary_language(tgt_lang) in CONVENTIONS


def numbers_lost(
    source: str, translation: str, src_lang: str = "en", tgt_lang: str = "zh"
) -> tuple[str, ...] | None:
    """The source's numbers (as written) that the translation does not render with their
    value, or None where it cannot tell (a language missing from ``CONVENTIONS``)."""
    if not applies(src_lang, tgt_lang):
        return None
    src, tgt = primary_language(src_lang), primary_language(tgt_lang)
    values = [v for n in _numbers(translation, CONVENTIONS[tgt]) for v in n.values]
    values += _spelled_values(translation, tgt)
    lost = []
    for n in _numbers(source, CONVENTIONS[src]):
        if _NOT_REQUIRED_AFTER.match(source, n.end) and n.scale == 1:
            continue
        if not any(math.isclose(a, b, rel_tol=1e-6) for a in n.values for b in values):
            lost.append(n.shown)
    return tuple(lost)
