"""Finding stories and context entries from a reader's query, in any script or spelling."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from . import textindex
from .linking import normalize_alias
from .models import Actor, Alias, Article, BackgroundNote

MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 200
# Matching stories considered for the results, newest first.
MAX_CANDIDATES = 200


@dataclass
class SearchResults:
    query: str
    entries: list = field(default_factory=list)
    stories: list = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.entries) + len(self.stories)


def search(query: str, *, limit: int = 10) -> SearchResults:
    """Entries whose aliases contain the query in the matcher's normal form (so "김정은",
    "Kim Jong Un" and "kim jong-un" all find Kim Jong-un; a query under three characters
    must start an alias), or whose description contains it; and published stories holding
    every word of it. Every lookup is answered by an index (see ``textindex``)."""
    query = " ".join(query.split())[:MAX_QUERY_CHARS]
    normalized = normalize_alias(query)
    results = SearchResults(query=query)
    if len(normalized) < MIN_QUERY_CHARS:
        return results
    aliases = Alias.objects.filter(textindex.alias_matching(normalized))
    actors = (
        Actor.objects.published()
        .filter(Q(pk__in=aliases.values("actor_id")) | textindex.description_matching(Actor, query))
        .order_by("name")[:limit]
    )
    notes = (
        BackgroundNote.objects.published()
        .filter(
            Q(pk__in=aliases.values("note_id"))
            | textindex.description_matching(BackgroundNote, query)
        )
        .order_by("title")[:limit]
    )
    results.entries = sorted([*actors, *notes], key=lambda entry: _entry_rank(entry, normalized))
    results.entries = results.entries[:limit]
    results.stories = list(_stories(query)[:limit])
    return results


def _entry_rank(entry, normalized: str) -> tuple[int, str]:
    label = normalize_alias(entry.label)
    return (0 if label == normalized else 1 if label.startswith(normalized) else 2, label)


def _stories(query: str):
    """Published stories holding every word of the query in their body or headline (in the
    matcher's normal form, so any script or spelling; each word may be the start of a
    longer one). Only the newest few hundred matches are candidates, so a word in every
    story costs what a rare one does; on PostgreSQL they are ranked by the stored vector."""
    stories = (
        Article.objects.published()
        .filter(textindex.matching_words(query, newest=MAX_CANDIDATES))
        .only("headline", "slug", "dek", "published_at", "outlet", "byline")
    )
    rank = textindex.story_rank(query)
    if rank is not None:
        return stories.annotate(rank=rank).order_by("-rank", "-published_at")
    return stories.order_by("-published_at")
