"""Filing names under letters, in any script, for the library's A–Z indexes. Pure: takes
names, returns letters and groups.

A name is filed under its first character:
- a Latin, Cyrillic or Greek letter under its capital without accents: "Édouard" under E,
  "Ким Чен Ын" under К;
- a Hangul syllable under its initial consonant, a double consonant with its single one
  (as Korean indexes do, and as the syllables sort: 가…깋 then 까…낗 then 나): "김정은"
  and "꽃" under ㄱ;
- any other letter (Han, kana, Arabic) under itself;
- a digit, a quotation mark or any other sign under "#".

The order is the database's order of lower-cased names (``indexes.py``), so a heading can
only come back (a name that sorts out of its letter's run): each run is its own group, and
its anchor stays unique on the page.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

OTHER = "#"
T = TypeVar("T")

HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3
# Syllables are laid out by initial consonant, 21 vowels × 28 finals (588) apiece.
SYLLABLES_PER_INITIAL = 21 * 28
HANGUL_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
DOUBLE_TO_SINGLE = {"ㄲ": "ㄱ", "ㄸ": "ㄷ", "ㅃ": "ㅂ", "ㅆ": "ㅅ", "ㅉ": "ㅈ"}


def hangul_start(initial: str) -> str:
    """The first syllable filed under ``initial``: "가" for ㄱ, "나" for ㄴ."""
    return chr(HANGUL_FIRST + HANGUL_INITIALS.index(initial) * SYLLABLES_PER_INITIAL)


@dataclass(frozen=True)
class JumpLetter:
    """A link in the letter jump nav: the letter shown and the name to start the index at."""

    letter: str
    start: str


@dataclass(frozen=True)
class Script:
    name: str
    lang: str
    letters: tuple[JumpLetter, ...]


# "#" (digits and signs, which sort first) starts the index at its beginning.
LATIN = Script(
    "Latin",
    "en",
    (
        JumpLetter(OTHER, ""),
        *(JumpLetter(chr(code), chr(code)) for code in range(ord("A"), ord("Z") + 1)),
    ),
)
HANGUL = Script(
    "Hangul",
    "ko",
    tuple(
        JumpLetter(initial, hangul_start(initial))
        for initial in HANGUL_INITIALS
        if initial not in DOUBLE_TO_SINGLE
    ),
)
# Ё sorts with Е; Ъ, Ы and Ь begin no name.
CYRILLIC = Script(
    "Cyrillic",
    "ru",
    tuple(JumpLetter(letter, letter) for letter in "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯ"),
)
JUMP_SCRIPTS = (LATIN, HANGUL, CYRILLIC)


def index_letter(name: str) -> str:
    """The letter ``name`` is filed under (see the module's docstring)."""
    name = name.strip()
    if not name:
        return OTHER
    char = name[0]
    if not char.isalpha():
        return OTHER
    code = ord(char)
    if HANGUL_FIRST <= code <= HANGUL_LAST:
        initial = HANGUL_INITIALS[(code - HANGUL_FIRST) // SYLLABLES_PER_INITIAL]
        return DOUBLE_TO_SINGLE.get(initial, initial)
    base = unicodedata.normalize("NFKD", char)[0]
    # "ß".upper() is "SS": one letter is kept.
    return base.upper()[0]


def letter_anchor(letter: str) -> str:
    """A fragment-safe name for a letter's heading: "K", "ㄱ", "other"."""
    return "other" if letter == OTHER else letter


@dataclass
class LetterGroup:
    letter: str
    anchor: str
    items: list = field(default_factory=list)


def group_by_letter(items: Iterable[T], *, name: Callable[[T], str]) -> list[LetterGroup]:
    """``items``, in their order, in runs that share a letter. Anchors are unique: a letter
    that comes back gets "-2", "-3"."""
    groups: list[LetterGroup] = []
    used: dict[str, int] = {}
    for item in items:
        letter = index_letter(name(item))
        if not groups or groups[-1].letter != letter:
            anchor = letter_anchor(letter)
            used[anchor] = used.get(anchor, 0) + 1
            if used[anchor] > 1:
                anchor = f"{anchor}-{used[anchor]}"
            groups.append(LetterGroup(letter, anchor))
        groups[-1].items.append(item)
    return groups
