"""Relinking stories against the context library.

Three parts, in the order a relink runs:

1. **The library**: the matcher over every alias, built once per ``LibraryVersion`` and
   kept by each process, so linking a story costs the same with 100 aliases as with
   100,000; only an alias change (a new version) costs a rebuild.
2. **Linking one story**: find the mentions, reconcile them with the ones on record (rows
   keep their identity, so an editor's "don't link here" survives), choose the links.
3. **Writing it**: each story in its own transaction; readers keep the previous version
   until the new one is committed whole.

Asking for relinks, and handing them to background workers, is ``explainer.scheduling``'s.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from .addresses import page_path, paths_resolved_once
from .linking import (
    Link,
    Matcher,
    Term,
    anchor,
    find_mentions,
    locate,
    mark_mentions,
    parse_html,
)
from .models import (
    Actor,
    Alias,
    Article,
    BackgroundNote,
    Figure,
    LibraryVersion,
    Mention,
    PendingRelink,
    Role,
    entry_key,
)
from .resolution import Resolution, RoleTitle, resolve

logger = logging.getLogger(__name__)

# A story that failed this many times is left for an editor (the admin shows the error).
MAX_ATTEMPTS = 5


# 1. The library --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryRef:
    """What linking needs of an entry: which row it is and where its page is."""

    field: str  # "actor" or "note"
    pk: int
    slug: str
    kind: str
    is_published: bool

    @property
    def key(self) -> str:
        return entry_key(self.field, self.pk)

    @property
    def url(self) -> str:
        name = "actor_detail" if self.field == "actor" else "note_detail"
        return page_path(name, self.slug)


@dataclass(frozen=True)
class Library:
    """The matcher over every alias and role phrase of a library version, the entries they
    point to, and the titles each entry held (``resolution.RoleTitle``)."""

    version: int
    matcher: Matcher
    entries: dict[str, EntryRef]
    titles: dict[str, list[RoleTitle]] = field(default_factory=dict)

    @classmethod
    def build(cls, *, version: int, include_unpublished: bool = False) -> Library:
        aliases = Alias.objects.all()
        roles = Role.objects.all()
        if not include_unpublished:
            # Readers' pages never link an entry they cannot open.
            aliases = aliases.filter(Q(actor__is_published=True) | Q(note__is_published=True))
            roles = roles.filter(actor__is_published=True)
        rows = aliases.values_list(
            "text",
            "case_sensitive",
            "is_short_form",
            "actor_id",
            "actor__slug",
            "actor__kind",
            "actor__is_published",
            "note_id",
            "note__slug",
            "note__kind",
            "note__is_published",
            "note__title",
            "note__starts_on",
            "note__ends_on",
        )
        entries: dict[str, EntryRef] = {}
        terms: list[Term] = []
        for row in rows.iterator(chunk_size=5000):
            text, case_sensitive, is_short_form = row[:3]
            actor_id, *actor = row[3:7]
            note_id, n_slug, n_kind, n_pub, n_title, *n_dates = row[7:]
            if actor_id is not None:
                ref = EntryRef("actor", actor_id, *actor)
            else:
                ref = EntryRef("note", note_id, n_slug, n_kind, n_pub)
            entries.setdefault(ref.key, ref)
            # An event's short form ("the summit") names it while it is under way.
            dated = is_short_form and ref.field == "note" and bool(n_dates[0])
            terms.append(
                Term(
                    text=text,
                    target=ref.key,
                    case_sensitive=case_sensitive,
                    is_proper_name=ref.field == "actor",
                    is_short_form=is_short_form,
                    held_from=n_dates[0] if dated else "",
                    held_until=(n_dates[1] or n_dates[0]) if dated else "",
                    role=n_title if dated else "",
                )
            )
        titles: dict[str, list[RoleTitle]] = {}
        role_rows = roles.select_related("actor").only(
            "title",
            "organization",
            "starts_on",
            "ends_on",
            "title_forms",
            "holder_phrases",
            *(f"actor__{name}" for name in ("slug", "kind", "is_published")),
        )
        for role in role_rows.iterator(chunk_size=5000):
            actor = role.actor
            ref = EntryRef("actor", actor.pk, actor.slug, actor.kind, actor.is_published)
            entries.setdefault(ref.key, ref)
            titles.setdefault(ref.key, []).append(
                RoleTitle(
                    target=ref.key,
                    forms=tuple(role.title_form_list),
                    starts_on=role.starts_on,
                    ends_on=role.ends_on,
                    label=role.label,
                )
            )
            terms.extend(
                Term(
                    text=phrase,
                    target=ref.key,
                    held_from=role.starts_on,
                    held_until=role.ends_on,
                    role=role.label,
                )
                for phrase in role.holder_phrase_list
            )
        return cls(version=version, matcher=Matcher(terms), entries=entries, titles=titles)


_libraries: dict[bool, Library] = {}


def current_library(*, include_unpublished: bool = False) -> Library:
    """The library as of now: this process's copy while its version is current, else a
    fresh build. (Sharing builds through the cache was measured and dropped: unpickling a
    100,000-alias trie took longer than building it.)"""
    version = LibraryVersion.current()
    library = _libraries.get(include_unpublished)
    if library is None or library.version != version:
        library = Library.build(version=version, include_unpublished=include_unpublished)
        _libraries[include_unpublished] = library
    return library


def forget_libraries() -> None:
    """Drop this process's copies (tests roll the database back under them)."""
    _libraries.clear()


# 2. Linking one story ----------------------------------------------------------------------


def story_date(article: Article) -> dt.date | None:
    # ``published_at`` may still be the string a caller assigned; read it as the field would.
    published_at = Article._meta.get_field("published_at").to_python(article.published_at)
    return published_at.date() if published_at else None


def entry_url_as_of(url: str, day: dt.date | None) -> str:
    """An entry's page as of a story's date: cards and pages then say who or what it was
    when the story was written."""
    return f"{url}?as_of={day.isoformat()}" if day else url


@dataclass(frozen=True, slots=True)
class Candidate:
    """A mention as the link rule sees it: where it is, what it names, who placed it."""

    start: int
    end: int
    entry: EntryRef
    is_suppressed: bool = False
    by_editor: bool = False


def choose_links(
    candidates: list[Candidate],
    *,
    every_mention: bool,
    as_of: dt.date | None,
    include_unpublished: bool = False,
) -> dict[int, Link]:
    """The first mention of each entry (or every one), skipping suppressed ones and
    unpublished entries; an editor's own mention is always linked. Returns the links by
    the index of the candidate they link."""
    links: dict[int, Link] = {}
    seen: set[str] = set()
    order = sorted(range(len(candidates)), key=lambda index: candidates[index].start)
    for index in order:
        candidate = candidates[index]
        entry = candidate.entry
        if candidate.is_suppressed or not (include_unpublished or entry.is_published):
            continue
        if entry.key in seen and not every_mention and not candidate.by_editor:
            continue
        seen.add(entry.key)
        links[index] = Link(
            start=candidate.start,
            end=candidate.end,
            href=entry_url_as_of(entry.url, as_of),
            css_class=f"mention mention--{entry.kind}",
            # The story page lists every entry's one-line description under these ids.
            attrs=(("data-entry", entry.slug), ("aria-describedby", f"mention-desc-{entry.slug}")),
        )
    return links


def ref_of(mention: Mention) -> EntryRef:
    """The entry a mention on record points to (loaded with the mention)."""
    if mention.actor_id is not None:
        actor = mention.actor
        return EntryRef("actor", actor.pk, actor.slug, actor.kind, actor.is_published)
    note = mention.note
    return EntryRef("note", note.pk, note.slug, note.kind, note.is_published)


def _locate_again(text: str, mention: Mention) -> int | None:
    return locate(
        text=text,
        quote=mention.quote,
        prefix=mention.prefix,
        suffix=mention.suffix,
        near=mention.start or 0,
    )


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in spans)


@dataclass
class LinkResult:
    automatic: list[Mention]
    editor: list[Mention]
    stale: list[Mention]
    linked_html: str
    # The version of the library it was linked on (``Library.version``).
    library_version: int
    # How every phrase the library matched was read, linked or not (the review panel's).
    resolutions: list[Resolution] = field(default_factory=list)

    @property
    def mentions(self) -> list[Mention]:
        return sorted(
            [*self.automatic, *(m for m in self.editor if not m.is_orphaned)],
            key=lambda m: m.start,
        )


MENTION_FIELDS = ["quote", "prefix", "suffix", "start", "is_orphaned", "is_linked"]
# What linking needs of an entry, and what the stored page shows of it.
ACTOR_FIELDS = ("slug", "kind", "is_published", "name", "description", "wikidata_id")
NOTE_FIELDS = ("slug", "kind", "is_published", "title", "description", "starts_on", "context_json")


def mentions_on_record(article: Article) -> list[Mention]:
    return mentions_of([article.pk]).get(article.pk, [])


def mentions_of(article_ids: list[int]) -> dict[int, list[Mention]]:
    """The stories' mentions on record with their entries, by story, in one query."""
    rows = (
        Mention.objects.filter(article_id__in=article_ids)
        .select_related("actor", "note")
        .only(
            "article_id",
            "actor_id",
            "note_id",
            "origin",
            "is_suppressed",
            *MENTION_FIELDS,
            *(f"actor__{name}" for name in ACTOR_FIELDS),
            *(f"note__{name}" for name in NOTE_FIELDS),
        )
        .order_by("article_id", "start", "pk")
    )
    by_story: dict[int, list[Mention]] = {}
    for mention in rows:
        by_story.setdefault(mention.article_id, []).append(mention)
    return by_story


def link_article(
    article: Article,
    *,
    library: Library,
    existing: list[Mention] | None = None,
    preview: bool = False,
) -> LinkResult:
    """Find the story's mentions again and render its linked body, writing nothing.

    Automatic mentions are recomputed from the library; editors' own mentions and their
    suppressions are re-anchored by quote and context, so they survive copy edits. A mention
    that cannot be found again is kept and flagged as orphaned, never dropped."""
    parsed = parse_html(article.body_html)
    text = parsed.text
    if existing is None:
        existing = mentions_on_record(article) if article.pk else []
    refs: dict[int, EntryRef] = {}  # by id() of the mention

    placed: list[tuple[int, int]] = []
    editor_mentions = [m for m in existing if m.origin == Mention.Origin.EDITOR]
    for mention in sorted(editor_mentions, key=lambda m: (m.start is None, m.start or 0, m.pk)):
        refs[id(mention)] = ref_of(mention)
        position = _locate_again(text, mention)
        end = None if position is None else position + len(mention.quote)
        if (
            position is None
            or not parsed.is_linkable_span(position, end)
            or _overlaps(position, end, placed)
        ):
            mention.is_orphaned = True
            mention.is_linked = False
            continue
        found = anchor(text=text, start=position, end=end)
        mention.prefix, mention.suffix, mention.start = found.prefix, found.suffix, found.start
        mention.is_orphaned = False
        placed.append((position, end))

    # A run of separators matches one space, so a hit can be longer than any alias; one
    # longer than a mention's quote can hold is no name anyone wrote.
    longest = Mention._meta.get_field("quote").max_length
    resolutions = resolve(
        find_mentions(parsed=parsed, matcher=library.matcher),
        text=text,
        # An undated draft is read as of today: "the secretary of state" is today's.
        day=story_date(article) or timezone.localdate(),
        titles=library.titles,
        paragraph_of=parsed.paragraph_of,
    )
    named: list[Resolution] = []
    for resolution in resolutions:
        if (
            resolution.target is not None
            and resolution.end - resolution.start <= longest
            and not _overlaps(resolution.start, resolution.end, placed)
        ):
            named.append(resolution)
            placed.append((resolution.start, resolution.end))
    old_automatic = [m for m in existing if m.origin == Mention.Origin.AUTOMATIC]
    for mention in old_automatic:
        refs[id(mention)] = ref_of(mention)
    auto_mentions, stale = _reconcile_automatic(
        article=article, text=text, hits=named, old=old_automatic, library=library, refs=refs
    )

    linkable = [*auto_mentions, *(m for m in editor_mentions if not m.is_orphaned)]
    candidates = [
        Candidate(
            start=m.start,
            end=m.start + len(m.quote),
            entry=refs[id(m)],
            is_suppressed=m.is_suppressed,
            by_editor=m.origin == Mention.Origin.EDITOR,
        )
        for m in linkable
    ]
    links = choose_links(
        candidates,
        every_mention=article.link_every_mention,
        as_of=story_date(article),
        include_unpublished=preview,
    )
    for index, mention in enumerate(linkable):
        mention.is_linked = index in links
    return LinkResult(
        automatic=auto_mentions,
        editor=editor_mentions,
        stale=stale,
        linked_html=mark_mentions(parsed=parsed, links=list(links.values())),
        library_version=library.version,
        resolutions=resolutions,
    )


def _reconcile_automatic(
    *,
    article: Article,
    text: str,
    hits: list[Resolution],
    old: list[Mention],
    library: Library,
    refs: dict[int, EntryRef],
) -> tuple[list[Mention], list[Mention]]:
    """Match the new hits to the automatic mentions already on record, so that a mention
    keeps its row (and an editor's "don't link here") for as long as its words stay in the
    story. Returns the mentions for every hit, and the old ones whose words are gone."""
    by_start = {hit.start: hit for hit in hits}
    claimed: dict[int, Mention] = {}
    unplaced: list[Mention] = []
    for mention in old:
        hit = by_start.get(mention.start)
        if (
            hit is not None
            and hit.start not in claimed
            and hit.target == refs[id(mention)].key
            and text[hit.start : hit.end] == mention.quote
        ):
            claimed[hit.start] = mention
        else:
            unplaced.append(mention)
    stale: list[Mention] = []
    for mention in unplaced:
        position = _locate_again(text, mention)
        hit = by_start.get(position) if position is not None else None
        if hit is not None and position not in claimed and hit.target == refs[id(mention)].key:
            claimed[position] = mention
        else:
            stale.append(mention)
    mentions = []
    for hit in hits:
        found = anchor(text=text, start=hit.start, end=hit.end)
        mention = claimed.get(hit.start)
        if mention is None:
            ref = library.entries[hit.target]
            mention = Mention(
                article_id=article.pk,
                origin=Mention.Origin.AUTOMATIC,
                **{f"{ref.field}_id": ref.pk},
            )
            refs[id(mention)] = ref
        mention.quote, mention.prefix, mention.suffix = found.quote, found.prefix, found.suffix
        mention.start = hit.start
        mention.is_orphaned = False
        mentions.append(mention)
    return mentions, stale


def article_preview(article: Article) -> LinkResult:
    """The story linked as it will be once everything is published: unpublished entries
    included, nothing written."""
    return link_article(article, library=current_library(include_unpublished=True), preview=True)


# 3. Writing it ------------------------------------------------------------------------------


def _tracked(mention: Mention) -> tuple:
    return tuple(getattr(mention, name) for name in MENTION_FIELDS)


# What relinking never reads of a story. It does read the stored page and linked body, to
# leave a story whose page would not change untouched.
RELINK_UNREAD_FIELDS = ["body", "match_text"]
# Stories read and linked together before each is written in its own transaction: reads
# shared by a group cost little per story, and a group of the largest bodies (1 MB each)
# still fits in a worker's memory.
GROUP_SIZE = 25


@dataclass
class StoryState:
    """A story as read for relinking: the row, its mentions and figures, and the pending
    requests this relink answers (read before everything else, so that whatever they asked
    for is in what was read)."""

    article: Article
    mentions: list[Mention]
    figures: list
    pending: set[int]
    # The mentions' fields as read: linking changes them in place.
    as_read: dict[int, tuple] = field(init=False)

    def __post_init__(self) -> None:
        self.as_read = {mention.pk: _tracked(mention) for mention in self.mentions}


def read_stories(
    article_ids: list[int], *, library: Library, lock: bool = False
) -> dict[int, StoryState]:
    """The stories as relinking needs them, in four queries however many there are, with
    the requests a relink on ``library`` answers: those asked under its version or an
    earlier one (a later request needs an alias this library does not have)."""
    pending: dict[int, set[int]] = {}
    for pk, article_id in PendingRelink.objects.filter(
        article_id__in=article_ids, failed_at=None, library_version__lte=library.version
    ).values_list("pk", "article_id"):
        pending.setdefault(article_id, set()).add(pk)
    articles = Article.objects.defer(*RELINK_UNREAD_FIELDS).filter(pk__in=article_ids)
    if lock:
        articles = articles.select_for_update()
    articles = list(articles)
    mentions = mentions_of([article.pk for article in articles])
    figures: dict[int, list] = {}
    for figure in Figure.objects.filter(article_id__in=[article.pk for article in articles]):
        figures.setdefault(figure.article_id, []).append(figure)
    return {
        article.pk: StoryState(
            article=article,
            mentions=mentions.get(article.pk, []),
            figures=figures.get(article.pk, []),
            pending=pending.get(article.pk, set()),
        )
        for article in articles
    }


def _entry_of(mention: Mention) -> tuple[str, int]:
    """Which entry a mention names: ("actor", 3) or ("note", 5)."""
    if mention.actor_id is not None:
        return "actor", mention.actor_id
    return "note", mention.note_id


def attach_entries(results: Iterable[LinkResult]) -> None:
    """Give the mentions a relink found new their entries (the page lists them), loading
    those no mention on record brought along in one query per model."""
    known: dict[tuple[str, int], object] = {}
    missing: list[Mention] = []
    for result in results:
        for mention in result.mentions:
            field_name, pk = _entry_of(mention)
            if field_name in mention._state.fields_cache:
                known[field_name, pk] = getattr(mention, field_name)
            else:
                missing.append(mention)
    for field_name, model, fields in [
        ("actor", Actor, ACTOR_FIELDS),
        ("note", BackgroundNote, NOTE_FIELDS),
    ]:
        ids = {ref[1] for ref in map(_entry_of, missing) if ref[0] == field_name}
        ids -= {pk for name, pk in known if name == field_name}
        for entry in model.objects.filter(pk__in=ids).only(*fields):
            known[field_name, entry.pk] = entry
    for mention in missing:
        field_name, pk = _entry_of(mention)
        setattr(mention, field_name, known.get((field_name, pk)))


def page_groups(result: LinkResult) -> list[tuple[str, list]]:
    """ "In this story" from the mentions just linked: published entries, in reading order."""
    from .stories import group_entries

    return group_entries(
        mention
        for mention in result.mentions
        if not mention.is_suppressed and mention.entry is not None and mention.entry.is_published
    )


# Rows a story's relink deletes, by model: ``MentionWrites.deletions``.
Deletions = Sequence[tuple[type, list[int]]]


class StoryChanged(Exception):
    """A story read before its transaction changed meanwhile: read it again, under lock."""


@dataclass(frozen=True)
class MentionWrites:
    """What relinking a story writes besides its row: mentions gone, new and changed, and
    the pending requests it answers."""

    stale: list[Mention]
    new: list[Mention]
    changed: list[Mention]
    pending: set[int]

    @classmethod
    def of(cls, state: StoryState, result: LinkResult) -> MentionWrites:
        return cls(
            stale=list(result.stale),
            new=[m for m in result.automatic if m.pk is None],
            changed=[
                m
                for m in [*result.automatic, *result.editor]
                if m.pk is not None and state.as_read.get(m.pk) not in (None, _tracked(m))
            ],
            pending=state.pending,
        )

    @property
    def mentions(self) -> bool:
        return bool(self.stale or self.new or self.changed)

    @property
    def deletions(self) -> list[tuple[type, list[int]]]:
        """What relinking deletes: (model, ids) of its stale mentions and answered requests,
        those there are."""
        deleting = [
            (Mention, sorted(mention.pk for mention in self.stale)),
            (PendingRelink, sorted(self.pending)),
        ]
        return [(model, ids) for model, ids in deleting if ids]

    def __bool__(self) -> bool:
        return self.mentions or bool(self.pending)


def write_story(
    state: StoryState,
    result: LinkResult,
    *,
    verify: bool,
    writes: MentionWrites | None = None,
    alone: bool = False,
) -> None:
    """Write one relinked story: its linked body and stored page (those that would
    change), its mentions, and its requests marked done; inside its transaction, or, when
    all it writes is its row, alone (``write_in_own_transaction``).

    ``verify`` is for a story read before its transaction: its row is then written (or,
    with nothing to write, locked) only if it is still as read, not saved, relinked or
    marked changed (``mark_stories_changed``) since, nor linked on a later library, and its
    requests are still pending, none answered by another worker; else ``StoryChanged``.
    Both checks cost no query of their own. Unverified, the caller holds the row's lock
    and links on a library at least as new as the row's (``relink_story``). ``writes`` is
    ``MentionWrites.of(state, result)``, when the caller has it. ``alone``: no transaction
    is open, and the story's requests are answered and its stale mentions deleted in the
    statement that writes its row (or checks it is as read), which is then the transaction
    (``write_in_own_transaction``).

    The row says which library it was linked on, even when nothing else changed: a relink
    on a library between that one and the row's last would otherwise write links the later
    library removed."""
    from .stories import page_format, render_page

    article = state.article
    if writes is None:
        writes = MentionWrites.of(state, result)
    linked_as_read, article.linked_body_html = article.linked_body_html, result.linked_html
    page_html = render_page(article, page_groups(result), state.figures)
    page_is_current = article.page_rendered_at is not None and (
        (article.page_rendered_at, article.page_format) == (article.rendered_at, page_format())
    )
    deleting = writes.deletions if alone else []
    changed: dict[str, str] = {}
    if result.linked_html != linked_as_read:
        changed["linked_body_html"] = result.linked_html
    if not page_is_current or page_html != article.page_html:
        changed["page_html"] = page_html
    newer_library = result.library_version > article.linked_library_version
    if not changed and newer_library:
        # The same links on a later library: only that is written (it locks the row too).
        values = {"linked_library_version": result.library_version}
        if not update_story_row(article, values, verify=verify, deleting=deleting) and verify:
            raise StoryChanged
        article.linked_library_version = result.library_version
    elif not changed:
        # Locked, where there is more to write, so that it stays as read until then.
        if verify and not story_as_read(
            article, result.library_version, lock=bool(writes), deleting=deleting
        ):
            raise StoryChanged
    else:
        # rendered_at versions the cached story page. A body or page written as it was
        # costs what a new one does (PostgreSQL compresses and stores it again): only what
        # changed is written, and an entry's description edited leaves the body alone.
        now = timezone.now()
        values = {
            **changed,
            "rendered_at": now,
            "page_rendered_at": now,
            "page_format": page_format(),
            "linked_library_version": result.library_version,
        }
        if not update_story_row(article, values, verify=verify, deleting=deleting) and verify:
            raise StoryChanged
        article.rendered_at = article.page_rendered_at = now
        article.page_html, article.page_format = page_html, page_format()
        article.linked_library_version = result.library_version

    if writes.stale and not alone:
        Mention.objects.filter(pk__in=[m.pk for m in writes.stale]).delete()
    if writes.new:
        Mention.objects.bulk_create(writes.new)
    if writes.changed:
        Mention.objects.bulk_update(writes.changed, MENTION_FIELDS)
    if writes.pending and not alone:
        answered, _ = PendingRelink.objects.filter(pk__in=writes.pending).delete()
        if verify and answered != len(writes.pending):
            raise StoryChanged


def update_story_row(
    article: Article,
    values: dict[str, object],
    *,
    verify: bool,
    deleting: Deletions = (),
) -> int:
    """Write ``values`` (field names and values, ``linked_library_version`` among them) to
    the story's row, and say whether it was there to write: with ``verify``, only if it is
    still as read and not linked on a later library (``write_story``). ``deleting``: the
    rows the same statement deletes, if it wrote the row (``_answered_with``).

    Written as SQL: the ORM took 0.19 ms to build this UPDATE, a twentieth of a relink,
    for a statement that is the same every time."""
    quote = connection.ops.quote_name
    fields = [Article._meta.get_field(name) for name in values]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values.values(), strict=True)
    ]
    where, where_params = _story_where(
        article, values["linked_library_version"] if verify else None
    )
    table = quote(Article._meta.db_table)
    return _answered_with(
        f"UPDATE {table} SET {assignments} WHERE {where}",
        [*params, *where_params],
        deleting,
    )


def story_as_read(
    article: Article,
    library_version: int,
    *,
    lock: bool,
    deleting: Deletions = (),
) -> bool:
    """Whether the story's row is still as read and not linked on a later library than
    ``library_version``; locked till the transaction ends with ``lock``, and ``deleting``
    deleted in the same statement if so (``_answered_with``)."""
    where, params = _story_where(article, library_version)
    sql = f"SELECT 1 FROM {connection.ops.quote_name(Article._meta.db_table)} WHERE {where}"
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return bool(_answered_with(sql, params, deleting))


def _story_where(article: Article, library_version: int | None) -> tuple[str, list]:
    """The story's row, and with a ``library_version`` only as read: its ``updated_at``
    and ``rendered_at`` as they were, linked on that library or an earlier one."""
    quote = connection.ops.quote_name
    where, params = f"{quote('id')} = %s", [article.pk]
    if library_version is None:
        return where, params
    for name in ("updated_at", "rendered_at"):
        field, as_read = Article._meta.get_field(name), getattr(article, name)
        if as_read is None:
            where += f" AND {quote(field.column)} IS NULL"
        else:
            where += f" AND {quote(field.column)} = %s"
            params.append(field.get_db_prep_value(as_read, connection, prepared=False))
    where += f" AND {quote('linked_library_version')} <= %s"
    params.append(library_version)
    return where, params


def _answered_with(sql: str, params: list, deleting: Deletions) -> int:
    """Run ``sql`` (an UPDATE of the story's row, or a SELECT of it) and return how many
    rows it wrote or found; with ``deleting`` (``MentionWrites.deletions``: its stale
    mentions, its pending requests), in one statement that also deletes those rows if it
    did (a data-modifying WITH: PostgreSQL's). A story relinked then costs one round trip
    to the database, not four or five (BEGIN, the row, its mentions, its requests,
    COMMIT), and on a virtual machine whose database wakes slowly a round trip can cost a
    twentieth of a relink.
    A request some other relink answered meanwhile is not answered twice."""
    if deleting:
        quote = connection.ops.quote_name
        returning = " RETURNING 1" if sql.startswith("UPDATE") else ""
        deletes = ", ".join(
            f"deleted_{i} AS (DELETE FROM {quote(model._meta.db_table)} WHERE id = ANY(%s)"
            f" AND EXISTS (SELECT 1 FROM story))"
            for i, (model, _) in enumerate(deleting)
        )
        sql = f"WITH story AS ({sql}{returning}), {deletes} SELECT count(*) FROM story"
        params = [*params, *(ids for _, ids in deleting)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if deleting:
            return cursor.fetchone()[0]
        return cursor.rowcount if sql.startswith("UPDATE") else len(cursor.fetchall())


def answers_with_row() -> bool:
    """Whether a story's requests can be answered in the statement that writes its row
    (PostgreSQL's data-modifying WITH); elsewhere they share a transaction with it."""
    return connection.vendor == "postgresql"


def write_in_own_transaction(state: StoryState, result: LinkResult) -> None:
    """``write_story`` for a story read before its transaction (``verify``), in a
    transaction of its own. When all it writes is its row, its requests answered and its
    stale mentions deleted, that one statement is the transaction (autocommit; on
    PostgreSQL with the deletions in it): BEGIN and COMMIT would be two more round trips
    to the database, and most relinks after a library change write nothing else.

    Deleting is the same done twice; inserting is not. A story with mentions to add or
    change keeps its transaction, which fails if another relink answered its requests
    meanwhile (the rows it would add may be there already)."""
    writes = MentionWrites.of(state, result)
    deletes_only = not (writes.new or writes.changed)
    if not deletes_only or (writes.deletions and not answers_with_row()):
        with transaction.atomic():
            write_story(state, result, verify=True, writes=writes)
    else:
        write_story(state, result, verify=True, writes=writes, alone=True)


@contextmanager
def commits_not_flushed() -> Iterator[None]:
    """Commit this connection's transactions without waiting for the disk (PostgreSQL),
    while the block runs: set once for a whole run of relinks, a round trip saved on each
    story. Safe for a relink: a commit lost in a crash loses its pending rows' deletion
    with it, so the story is relinked again. The setting is undone however the block ends
    (a SET inside a transaction that rolls back is undone with it)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        # A broken connection is closed, and its setting with it.
        with suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def mark_stories_changed(article_ids: Iterable[int]) -> None:
    """Say that these stories changed where ``updated_at`` does not show it (an editor's
    mention, a figure): a relink that read them before writes nothing and reads them
    again, and their cached pages are fresh at once (``rendered_at`` versions them)."""
    Article.objects.filter(pk__in=list(article_ids)).update(rendered_at=timezone.now())


def relink_story(article_id: int, *, library: Library | None = None) -> bool:
    """Relink one story, reading it under its row lock, in its own transaction. False if
    the story no longer exists."""
    library = library or current_library()
    with transaction.atomic(), paths_resolved_once():
        # The row lock makes two workers relinking one story take turns (PostgreSQL;
        # SQLite writes one transaction at a time anyway).
        state = read_stories([article_id], library=library, lock=True).get(article_id)
        if state is None:
            return False
        library = newest_of(library, [state])
        result = link_article(state.article, library=library, existing=state.mentions)
        attach_entries([result])
        write_story(state, result, verify=False)
    return True


def newest_of(library: Library, states: Iterable[StoryState]) -> Library:
    """``library``, or the current one if a story was linked on a later library than it
    since the relink began: a relink never writes a story with links older than it has."""
    if any(state.article.linked_library_version > library.version for state in states):
        return current_library()
    return library


@dataclass
class RelinkSummary:
    relinked: int = 0
    gone: int = 0
    failed: list[int] = field(default_factory=list)

    def add(self, other: RelinkSummary) -> None:
        self.relinked += other.relinked
        self.gone += other.gone
        self.failed.extend(other.failed)


def relink_stories(article_ids: Iterable[int]) -> RelinkSummary:
    """Relink each story in its own transaction (what a worker's task runs). A story that
    fails is recorded on its pending rows, with the error, and never stops the others.

    Stories are read and linked a group at a time; each is then written in its own
    transaction if, under its row lock, it is still as read, and otherwise read again
    and relinked there (``relink_story``)."""
    summary = RelinkSummary()
    # One library for the chunk: an alias edited meanwhile asks for its own relinks, which
    # a relink that started before it never answers (its pending rows were not read).
    library = current_library()
    ids = list(article_ids)
    # Entries' paths, in links and on the stored pages, are all resolved the same way.
    with commits_not_flushed(), paths_resolved_once():
        for start in range(0, len(ids), GROUP_SIZE):
            _relink_group(ids[start : start + GROUP_SIZE], library=library, summary=summary)
    return summary


def _relink_group(group: list[int], *, library: Library, summary: RelinkSummary) -> None:
    """Read and link a group of stories together, then write each in its own transaction,
    or relink it alone if it changed since it was read (``relink_stories``)."""
    # Claimed: the sweep leaves these to this worker unless it stops for good.
    PendingRelink.objects.filter(
        article_id__in=group, failed_at=None, library_version__lte=library.version
    ).update(claimed_at=timezone.now())
    states = read_stories(group, library=library)
    library = newest_of(library, states.values())
    results: dict[int, LinkResult] = {}
    for article_id in group:
        state = states.get(article_id)
        if state is None:
            summary.gone += 1
            continue
        try:
            results[article_id] = link_article(
                state.article, library=library, existing=state.mentions
            )
        except Exception as error:
            _failed(summary, article_id, error)
    attach_entries(results.values())
    for article_id, result in results.items():
        try:
            try:
                write_in_own_transaction(states[article_id], result)
                summary.relinked += 1
                continue
            except StoryChanged:
                pass
            if relink_story(article_id, library=library):
                summary.relinked += 1
            else:
                summary.gone += 1
        except Exception as error:
            _failed(summary, article_id, error)


def _failed(summary: RelinkSummary, article_id: int, error: Exception) -> None:
    logger.exception("Relinking story %s failed", article_id)
    record_failure(article_id, error)
    summary.failed.append(article_id)


def record_failure(article_id: int, error: BaseException) -> None:
    message = "".join(traceback.format_exception_only(error)).strip()[:2000]
    pending = PendingRelink.objects.filter(article_id=article_id, failed_at=None)
    for row in pending:
        row.attempts += 1
        row.last_error = message
        # Claimed now, so the sweep leaves it to its back-off retry unless that is lost too.
        row.claimed_at = timezone.now()
        if row.attempts >= MAX_ATTEMPTS:
            row.failed_at = timezone.now()
        row.save(update_fields=["attempts", "last_error", "claimed_at", "failed_at"])
