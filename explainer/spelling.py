"""How close a reader's query is to a name, whatever its spelling: "Kim Jong Eun", "kim
jongun" and "Kim Jong-Eun" are Kim Jong-un; "putn" is Putin. Pure: takes strings, returns
plain values. The database finds a few candidate names by their trigrams (``textindex``);
these functions decide which of them are close, and how close."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from .linking import TranslationTable, fold, is_word_char

# Below this many letters a query is too short to have a typo in it: only a respelling
# (spaces, hyphens, case) still finds a name.
MIN_FUZZY_CHARS = 4
# Up to this many letters, a typo is rarely in the first letter, and one edit away from a
# short query lies many unrelated words ("moon", "soon"): the first letter must match.
SHORT_QUERY_CHARS = 5
# The trigrams a query is looked up by, at most: enough for any name.
MAX_TRIGRAMS = 32


def _word_char(char: str) -> str:
    # "_" counts as a word character for the linker; in a name it is punctuation.
    return fold(char) if char != "_" and is_word_char(char) else " "


# Each character folded as the linker folds it if it is a word character, else a space.
_WORD_CHARS = TranslationTable(_word_char)


def words(text: str) -> list[str]:
    """The words of ``text``, folded as the linker folds them (lower case), split at every
    space, hyphen and other punctuation: "Kim Jong-un's" gives ["kim", "jong", "un", "s"].
    Hangul syllables are spelled out in their letters (jamo), so that "운" is one letter
    from "은" and two from "일", as "un" is from "eun" and "il"."""
    return unicodedata.normalize("NFD", text.translate(_WORD_CHARS)).split()


def compact(text: str) -> str:
    """The words of ``text`` run together, so spellings that differ only in spaces,
    hyphens, punctuation or case compare equal: "Kim Jong-un" and "kim jongun" both give
    "kimjongun"."""
    return "".join(words(text))


def letters(text: str) -> int:
    """How long ``text`` (as ``compact`` gives it) is, counted in letters: a Chinese or
    Japanese character (a wide character other than a Hangul letter) spells what two or
    three Latin letters do, so it counts two."""
    return sum(2 if _is_wide(char) else 1 for char in text)


def _is_wide(char: str) -> bool:
    return not is_hangul_letter(char) and unicodedata.east_asian_width(char) in "WF"


def is_hangul_letter(char: str) -> bool:
    """A Hangul jamo, as a syllable decomposes into (U+1100 to U+11FF)."""
    return "\u1100" <= char <= "\u11ff"


def max_edits(length: int) -> int:
    """How many typos a query of ``length`` letters (as ``letters`` counts them) may hold
    and still find a name: none under four letters, one up to seven, two up to twelve,
    three beyond."""
    if length < MIN_FUZZY_CHARS:
        return 0
    if length < 8:
        return 1
    return 2 if length < 13 else 3


def edit_distance(first: str, second: str, *, limit: int) -> int:
    """The number of single-character insertions, deletions, substitutions and swaps of
    neighbours that turn ``first`` into ``second`` (the optimal string alignment distance),
    or ``limit + 1`` when it is more than ``limit``. Computed by rapidfuzz, in C: a search
    judges up to 150 candidate names, and computed here the distances were most of a
    search's time (40 µs each, against 0.2 µs)."""
    return OSA.distance(first, second, score_cutoff=limit)


@dataclass(frozen=True)
class Closeness:
    """How a query compares with a name: the typos between them, the similarity that
    gives (1 for the same letters), and whether the query spelled the whole name or only
    some of its words ("putn" against "Vladimir Putin")."""

    edits: int
    similarity: float
    whole: bool

    @property
    def key(self) -> tuple[float, bool]:
        """Sorts the closest first: the most similar, then whole names before parts."""
        return (-self.similarity, not self.whole)


def closeness(*, query: str, name: str) -> Closeness | None:
    """How close ``query`` is to ``name``, or None if it is not a spelling of the name or
    of a run of its words. Spaces, hyphens, punctuation and case never count ("kim jongun"
    is "Kim Jong-un", 0 edits); beyond that a query may hold ``max_edits`` typos, and a
    short one must start with the name's first letter. A query under four letters must
    spell the whole name."""
    wanted = compact(query)
    if not wanted:
        return None
    # Counted once: counting looks up every character's width.
    length = letters(wanted)
    limit = max_edits(length)
    name_words = words(name)
    best: Closeness | None = None
    for start in range(len(name_words)):
        form = ""
        for end in range(start, len(name_words)):
            form += name_words[end]
            if len(form) > len(wanted) + limit:
                break
            if len(form) < len(wanted) - limit:
                continue
            whole = start == 0 and end == len(name_words) - 1
            if not whole and length < MIN_FUZZY_CHARS:
                # "un" is a word of "Kim Jong-un", but too short to be looked for in one.
                continue
            found = _compare(wanted, form, length=length, limit=limit, whole=whole)
            if found is not None and (best is None or found.key < best.key):
                best = found
    return best


def _compare(wanted: str, form: str, *, length: int, limit: int, whole: bool) -> Closeness | None:
    if wanted != form and length <= SHORT_QUERY_CHARS and wanted[0] != form[0]:
        return None
    edits = edit_distance(wanted, form, limit=limit)
    if edits > limit:
        return None
    return Closeness(edits=edits, similarity=1 - edits / max(len(wanted), len(form)), whole=whole)


def trigrams(query: str) -> list[list[str]]:
    """The three-character pieces of each word of ``query`` (folded as ``words`` folds
    them), word by word, each piece once, first seen first, at most ``MAX_TRIGRAMS`` in
    all: what a trigram index is asked for names that share some of them. Words shorter
    than three characters give none: "Kim Jong-un" gives [["kim"], ["jon", "ong"]]."""
    seen: set[str] = set()
    found: list[list[str]] = []
    # As the index holds them: Hangul syllables whole, not spelled out as in ``words``.
    for word in query.translate(_WORD_CHARS).split():
        pieces = []
        for start in range(len(word) - 2):
            piece = word[start : start + 3]
            if piece not in seen and len(seen) < MAX_TRIGRAMS:
                seen.add(piece)
                pieces.append(piece)
        if pieces:
            found.append(pieces)
    return found
