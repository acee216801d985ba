"""Names in a story that no alias covers yet, for editors to turn into entries. Pure."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
# What may stand between two words of one name: a space, after a plural's apostrophe or not
# ("Workers' Party").
_NAME_GAP = re.compile(r"['’]?[ \u00a0]")
# Plurals whose possessive belongs inside a name: "Democratic People's Republic of Korea".
PLURALS = frozenset(["people", "women", "men", "children"])
# Lower-case words that may join the words of a name: "Ministry of Foreign Affairs".
_CONNECTORS = frozenset(["of"])
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s*$|\n\s*$|^\s*$|[“\"]$")


def _words(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


MONTHS = "january february march april may june july august september october november december"
DAYS = "monday tuesday wednesday thursday friday saturday sunday"
# Capitalised at a sentence's start or in a title-case line, but not names.
COMMON_WORDS = _words(
    "a an the this that these those there here it its he she his her they their them we our",
    "you your i me my in on at to of for from by with without as after before during since",
    "until when while where why how what who which if but and or nor so yet also however",
    "meanwhile moreover furthermore still then thus therefore although though because",
    "according earlier later last next today yesterday tomorrow tonight not no yes all some",
    "many most more several both each every other such",
    MONTHS,
    DAYS,
)
# Words of a title before a name: "Russian President Vladimir Putin" suggests the name only.
TITLE_WORDS = _words(
    "president minister foreign vice prime deputy chairman chairwoman secretary general",
    "leader ambassador envoy spokesman spokeswoman spokesperson premier chancellor senator",
    "governor mayor commander marshal king queen prince princess pope mr mrs ms dr prof",
)
# Words that name nothing on their own: an alias made only of them links only in context.
ORDINARY_WORDS = (
    COMMON_WORDS
    | TITLE_WORDS
    | _words(
        "north south east west northern southern eastern western country government state",
        "party leader summit talks deal city capital nation people regime administration",
    )
)


def is_ordinary_phrase(text: str) -> bool:
    """Whether every word of ``text`` is a common word ("the", "North", "the President")."""
    words = [word.strip(".,'’") for word in text.lower().split()]
    return all(word in ORDINARY_WORDS for word in words if word)


# All-capitals words that are not acronyms a reader needs explained.
COMMON_CAPITALS = _words("AM PM OK TV II III IV VI VII VIII IX XI XII")
# "North Korean" and "Japanese" need no entry of their own when "North Korea" and "Japan"
# have one.
DEMONYM_ENDINGS = ("n", "ese", "i")


def _is_sentence_start(text: str, position: int) -> bool:
    return bool(_SENTENCE_END.search(text[max(0, position - 3) : position]))


def _overlaps(start: int, end: int, covered: list[tuple[int, int]]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in covered)


def _is_possessive(word: str) -> bool:
    """A possessive ends a name ("North Korea's KCNA"), except a plural's ("People's")."""
    return bool(re.search(r"['’]s$", word)) and word[:-2].lower() not in PLURALS


def _is_acronym(word: str) -> bool:
    return 2 <= len(word) <= 6 and word.isalpha() and word.isupper() and word not in COMMON_CAPITALS


def _is_title(word: str) -> bool:
    return any(part in TITLE_WORDS for part in word.lower().split("-"))


def _name_pieces(words: list[re.Match]) -> list[list[re.Match]]:
    """Split a run of capitalised words at common words ("The", "On", "April"), drop the
    title before a name, and trim connectors from the ends of each piece."""
    pieces: list[list[re.Match]] = [[]]
    for word in words:
        if word[0][0].isupper() and word[0].lower() in COMMON_WORDS:
            pieces.append([])
        else:
            pieces[-1].append(word)
    trimmed = []
    for piece in pieces:
        # Cut after the last title word that still leaves a name of two words or more;
        # "Ministry of Foreign Affairs" keeps its "Foreign".
        for index in range(len(piece) - 3, -1, -1):
            if _is_title(piece[index][0]):
                piece = piece[index + 1 :]
                break
        while piece and piece[0][0] in _CONNECTORS:
            piece = piece[1:]
        while piece and piece[-1][0] in _CONNECTORS:
            piece = piece[:-1]
        trimmed.append(piece)
    return trimmed


def suggest_names(text: str, covered: list[tuple[int, int]]) -> list[str]:
    """Names in ``text`` that no mention covers, for an editor to consider as new entries or
    aliases: capitalised phrases of two to five words ("Sergei Lavrov", "Far Eastern Federal
    University") and acronyms of two to six capitals ("KCNA"). ``covered`` holds the
    [start, end) spans of the mentions already found. In order of first appearance.

    Common words ("The", "However", months, days) never start or join a name, and a word
    standing alone at the start of a sentence is skipped: its capital says nothing."""
    words = list(_WORD.finditer(text))
    runs: list[list[re.Match]] = []
    for word in words:
        previous = runs[-1][-1] if runs and runs[-1] else None
        joined = (
            previous is not None
            and _NAME_GAP.fullmatch(text[previous.end() : word.start()])
            and not _is_possessive(previous[0])
        )
        if joined and (word[0][0].isupper() or word[0] in _CONNECTORS):
            runs[-1].append(word)
        else:
            runs.append([word] if word[0][0].isupper() else [])
    found: list[tuple[int, str]] = []
    for run in runs:
        if len(run) == 1 and _is_sentence_start(text, run[0].start()):
            continue
        for piece in _name_pieces(run):
            if not piece:
                continue
            start, end = piece[0].start(), piece[-1].end()
            if _is_possessive(piece[-1][0]):
                end -= 2  # "Sergei Lavrov's" suggests "Sergei Lavrov"
            if 2 <= len(piece) <= 5 and not _overlaps(start, end, covered):
                found.append((start, text[start:end]))
            found += [
                (word.start(), word[0])
                for word in piece
                if _is_acronym(word[0]) and not _overlaps(word.start(), word.end(), covered)
            ]
    names: list[str] = []
    for _, name in sorted(found):
        if name not in names:
            names.append(name)
    return names
