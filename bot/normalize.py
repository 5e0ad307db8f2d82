"""Folds what owners type into one comparable form and matches it against the desk's choices.

`normalize` applies, in order: NFKC (full-width letters and digits, half-width katakana), katakana
(except ヵ ヶ) to hiragana, lower case, wave dashes to "~", removal of white space, of invisible characters
(see `is_invisible`) and of the punctuation ・、。,.!?「」『』"', and finally one trailing polite "です".
Both sides of a comparison go through it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from config.desk import Choice

_FOLD: dict[int, int | str] = {code: code - 0x60 for code in range(ord("ァ"), ord("ヴ") + 1)}
_FOLD |= {ord("〜"): "~", ord("〰"): "~"}
_DROP = str.maketrans("", "", "・、。,.!?「」『』\"'")
_POLITE_ENDING = "です"
PARTIAL_MATCH_MIN = 2  # shorter inputs match only exactly

_EMOJI_JOINERS = {"\u200d", "\ufe0e", "\ufe0f", "\u20e3"}
_KEYCAP_BASES = set("0123456789#*")
_SKIN_TONES = range(0x1F3FB, 0x1F3FF + 1)
_TAGS = range(0xE0020, 0xE007F + 1)  # subdivision flags such as England's


# Characters that show nothing: spaces, controls and format characters (zero-width space, joiners, bidi
# marks, tags), and letters that render blank (Hangul fillers, the blank Braille pattern, Khmer inherent vowels).
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp"}
_BLANK_LETTERS = {0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0}
# Format characters that never carry meaning in a name or a sentence, dropped wherever they are (a search for
# the name must find it); joiners stay, emoji need them.
_NOISE = str.maketrans(
    dict.fromkeys(
        [
            0x00AD,
            0x180E,
            0x200B,
            0x200E,
            0x200F,
            0x2060,
            0xFEFF,
            *range(0x202A, 0x202F),
            *range(0x2066, 0x206A),
        ]
    )
)


def is_invisible(char: str) -> bool:
    """Whether a character shows nothing by itself (a combining mark shows only on what precedes it)."""
    return unicodedata.category(char) in _INVISIBLE_CATEGORIES or ord(char) in _BLANK_LETTERS


def has_visible(text: str) -> bool:
    """Whether the text shows at least one character: not only spaces, invisible characters, combining marks
    or variation selectors."""
    return any(not is_invisible(c) and not unicodedata.category(c).startswith("M") for c in text)


def clean_text(text: str) -> str:
    """The answer without the invisible characters around it and without zero-width noise inside it."""
    text = text.translate(_NOISE)
    start, end = 0, len(text)
    while start < end and (is_invisible(text[start]) or unicodedata.category(text[start]).startswith("M")):
        start += 1
    while end > start and is_invisible(text[end - 1]) and ord(text[end - 1]) not in _TAGS:
        end -= 1
    return text[start:end]


def normalize(text: str) -> str:
    """Returns the text folded for comparison (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD).lower()
    folded = "".join(c for c in folded if not is_invisible(c)).translate(_DROP)
    if folded != _POLITE_ENDING:
        folded = folded.removesuffix(_POLITE_ENDING)
    return folded


def _keys(choice: Choice) -> set[str]:
    return {k for k in (normalize(t) for t in (choice.label, choice.name, *choice.aliases)) if k}


def match_choice(text: str, choices: Sequence[Choice]) -> Choice | None:
    """Returns the one choice the text names (label, name, id or alias), or None when none or several fit."""
    said = normalize(text)
    if not said:
        return None
    exact = [c for c in choices if said in _keys(c) or said == normalize(c.id)]
    if exact:
        return exact[0] if len(exact) == 1 else None
    if len(said) < PARTIAL_MATCH_MIN:
        return None
    partial = [
        c for c in choices if any(said in k or (len(k) >= PARTIAL_MATCH_MIN and k in said) for k in _keys(c))
    ]
    return partial[0] if len(partial) == 1 else None


def is_emoji_only(text: str) -> bool:
    """Tells whether the text holds pictographs (emoji, with their joiners and modifiers) and nothing else."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return False
    pictographs = 0
    for i, char in enumerate(chars):
        if char in _EMOJI_JOINERS:
            continue
        if char in _KEYCAP_BASES and "\u20e3" in chars[i + 1 : i + 3]:
            pictographs += 1
            continue
        if unicodedata.category(char) != "So" and ord(char) not in _SKIN_TONES and ord(char) not in _TAGS:
            return False
        pictographs += 1
    return pictographs > 0
