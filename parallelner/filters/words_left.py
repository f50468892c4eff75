"""Words left untranslated (an adequacy signal, free): source-language words a translation into
another script keeps as written, outside its entities — ``它 unbelievable。``, ``技术
lobbyists会面``, ``says Tarlo`` — a small model's commonest slip, which every other check
passes (the entities are in place, the text is mostly Chinese).

Into Chinese or Japanese from a Latin-script language: a lower-case Latin word of three letters
or more that the source holds too. Kept on purpose, and not counted: capitalised words,
acronyms and model names (``Siri``, ``Wi-Fi``, ``Mate 9``), the small words inside a name
(``Simple and Select``), and an original kept in brackets or quotes beside its rendering
(``火山学(volcanology)``, ``“Sea of the Antilles”``). From Chinese or Japanese into another
script: any Han character. Between two languages of one script (EN→DE) it cannot tell, and
says so (None).
"""

from __future__ import annotations

import re

from parallelner.records import Candidate, Span, primary_language
from parallelner.text.unicode_scripts import is_han

_CJK_LANGS = frozenset({"zh", "ja", "yue"})  # languages written with Han characters
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_WORD = re.compile(rf"[{_LATIN}][{_LATIN}'’]*")
_QUOTED = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]|[“\"「『][^”\"」』]*[”\"」』]")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002fa1f]+")
_URL = re.compile(r"\S+@\S+|https?://\S+|www\.\S+")


def _outside(text: str, spans: tuple[Span | None, ...]) -> str:
    """``text`` with its entity spans, URLs, e-mail addresses, brackets and quotes blanked."""
    chars = list(text)
    for s in spans:
        if s is not None:
            chars[s.start : s.end] = " " * (s.end - s.start)
    blank = lambda m: " " * len(m.group(0))  # noqa: E731
    return _QUOTED.sub(blank, _URL.sub(blank, "".join(chars)))


def _lower_words(text: str) -> list[str]:
    """The lower-case Latin words of three letters or more in ``text``, but those between two
    capitalised words of one name (``Simple and Select``: words apart by one space)."""
    words = list(_WORD.finditer(text))
    found = []
    for i, m in enumerate(words):
        w = m.group(0)
        if len(w) < 3 or not w[0].islower():
            continue
        before, after = (
            (words[i - 1] if i else None),
            (words[i + 1] if i + 1 < len(words) else None),
        )
        inside = (
            before is not None and after is not None
            and before.group(0)[0].isupper() and after.group(0)[0].isupper()
            and text[before.end() : m.start()] == " " and text[m.end() : after.start()] == " "
        )  # fmt: skip
        if not inside:
            found.append(w)
    return found


def applies(src_lang: str, tgt_lang: str) -> bool:
    """Whether the check can tell for this pair of languages (they write different scripts)."""
    src, tgt = primary_language(src_lang), primary_language(tgt_lang)
    return (src in _CJK_LANGS) != (tgt in _CJK_LANGS)


def words_left(c: Candidate) -> tuple[str, ...] | None:
    """The source words ``c``'s translation keeps as written, or None where it cannot tell."""
    if not applies(c.src_lang, c.tgt_lang):
        return None
    rest = _outside(c.tgt_text, c.tgt_entities)
    if primary_language(c.tgt_lang) in _CJK_LANGS:
        source_words = set(_WORD.findall(c.src_text))
        return tuple(w for w in dict.fromkeys(_lower_words(rest)) if w in source_words)
    return tuple(dict.fromkeys(run for run in _HAN_RUN.findall(rest) if any(map(is_han, run))))
