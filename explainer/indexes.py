"""The library's A–Z indexes, ``/actors/`` and ``/background/``: published entries by kind,
each kind A–Z under letter headings (``alphabet.py``). Read a page at a time from a name on
(a keyset: ``?from=<name>``, with ``&at=<id>`` only when entries of the same name straddle
two pages), so a request loads at most a page of each kind however large the library.

Names sort in the database's order of their lower-cased form, the same expression on both
sides of the comparison, so a page boundary is where the next page begins on SQLite
(ASCII case folded; other scripts by code point: Cyrillic А–Я, Hangul 가–힣 in dictionary
order) and on PostgreSQL (its collation, every script case folded)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import CharField, Q, Value
from django.db.models.functions import Lower

from .alphabet import JUMP_SCRIPTS, LetterGroup, group_by_letter
from .models import Actor, ContextEntry
from .stories import STORY_GROUPS

OVERVIEW_PER_KIND = 24
PAGE_SIZE = 100
MAX_START_CHARS = 200


class BadIndexRequest(ValueError):
    """A query string no link on the site makes: an unknown kind, an id that is no number."""


@dataclass(frozen=True)
class Cursor:
    """Where a page of one kind begins: the first entry's name, and its id when an entry of
    the same name ends the page before."""

    start: str
    at: int = 0


@dataclass
class KindSection:
    kind: str
    label: str
    groups: list[LetterGroup]
    more_url: str  # the query string of the page that follows, or ""


@dataclass
class LibraryIndex:
    kind: str  # "" for every kind
    start: str
    kinds: list[tuple[str, str, str]]  # (kind, label, query string)
    sections: list[KindSection]
    letters: list[dict]
    previous_url: str  # "" when this is the first page
    is_paged: bool  # a page of one kind, or of every kind from a letter on


def name_field(model: type[ContextEntry]) -> str:
    return "name" if model is Actor else "title"


def kinds_of(model: type[ContextEntry]) -> list[tuple[str, str]]:
    """The model's kinds in the model's order, with their plural labels ("People")."""
    labels = dict(STORY_GROUPS)
    return [(kind, labels[kind]) for kind in model.Kind.values]


def query_string(*, kind: str = "", cursor: Cursor | None = None) -> str:
    params: dict[str, str | int] = {}
    if kind:
        params["kind"] = kind
    if cursor is not None:
        params["from"] = cursor.start
        if cursor.at:
            params["at"] = cursor.at
    return "?" + urlencode(params) if params else ""


def parse_request(
    model: type[ContextEntry], *, kind: str | None, start: str | None, at: str | None
) -> tuple[str, Cursor | None]:
    kind = kind or ""
    if kind and kind not in model.Kind.values:
        raise BadIndexRequest(f"No kind “{kind[:40]}”.")
    if start is not None and len(start) > MAX_START_CHARS:
        raise BadIndexRequest("That name is too long to start an index at.")
    if at and not (at.isascii() and at.isdigit() and len(at) <= 18):
        raise BadIndexRequest("“at” is an entry's number.")
    if not start:
        return kind, None
    return kind, Cursor(start, int(at or 0))


def _ordered(model: type[ContextEntry], kind: str):
    field = name_field(model)
    return (
        model.objects.published()
        .filter(kind=kind)
        .annotate(sort_name=Lower(field))
        .only("slug", "kind", "description", field)
    )


def _key(cursor: Cursor):
    return Lower(Value(cursor.start, output_field=CharField()))


def _page(
    model: type[ContextEntry], kind: str, cursor: Cursor | None, size: int
) -> tuple[list, Cursor | None]:
    """Up to ``size`` entries of ``kind`` from ``cursor`` on, and where the next page begins."""
    rows = _ordered(model, kind)
    if cursor is not None:
        key = _key(cursor)
        # The first condition lets the database seek in its A-to-Z index (``actor_a_to_z``)
        # instead of walking every name before the cursor; the second is the exact cut.
        rows = rows.filter(sort_name__gte=key).filter(
            Q(sort_name__gt=key) | Q(sort_name=key, pk__gte=cursor.at)
        )
    rows = list(rows.order_by("sort_name", "pk")[: size + 1])
    if len(rows) <= size:
        return rows, None
    last, following = rows[size - 1], rows[size]
    label = getattr(following, name_field(model))
    at = following.pk if last.sort_name == following.sort_name else 0
    return rows[:size], Cursor(label, at)


def _previous(model: type[ContextEntry], kind: str, cursor: Cursor, size: int) -> str:
    """The query string of the page before the one at ``cursor``: at most ``size + 1``
    names and ids, read backwards."""
    key = _key(cursor)
    field = name_field(model)
    before = list(
        _ordered(model, kind)
        .filter(sort_name__lte=key)
        .filter(Q(sort_name__lt=key) | Q(sort_name=key, pk__lt=cursor.at))
        .order_by("-sort_name", "-pk")
        .values_list("sort_name", field, "pk")[: size + 1]
    )
    if not before:
        return ""
    if len(before) <= size:
        return query_string(kind=kind)
    sort_name, label, pk = before[size - 1]
    at = pk if before[size][0] == sort_name else 0
    return query_string(kind=kind, cursor=Cursor(label, at))


def library_index(
    model: type[ContextEntry], *, kind: str = "", cursor: Cursor | None = None
) -> LibraryIndex:
    """One query per kind shown (four on the overview, one on a kind's page, and one more
    there for the link to the page before)."""
    field = name_field(model)
    kinds = kinds_of(model)
    shown = [(k, label) for k, label in kinds if k == kind] if kind else kinds
    size = PAGE_SIZE if kind else OVERVIEW_PER_KIND
    sections = []
    for section_kind, label in shown:
        rows, following = _page(model, section_kind, cursor, size)
        if not rows and not kind:
            continue
        sections.append(
            KindSection(
                kind=section_kind,
                label=label,
                groups=group_by_letter(rows, name=lambda entry: getattr(entry, field)),
                more_url=query_string(kind=section_kind, cursor=following) if following else "",
            )
        )
    letters = [
        {
            "name": script.name,
            "lang": script.lang,
            "links": [
                (
                    jump.letter,
                    query_string(kind=kind, cursor=Cursor(jump.start) if jump.start else None),
                )
                for jump in script.letters
            ],
        }
        for script in JUMP_SCRIPTS
    ]
    return LibraryIndex(
        kind=kind,
        start=cursor.start if cursor else "",
        kinds=[(k, label, query_string(kind=k)) for k, label in kinds],
        sections=sections,
        letters=letters,
        previous_url=_previous(model, kind, cursor, size) if kind and cursor else "",
        is_paged=cursor is not None,
    )
