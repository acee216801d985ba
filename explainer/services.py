"""Write paths shared by the admin, the importers and the demo: importing stories, and
the names an editor may want to add to the library. The library file lives in
``library_file.py``, relinking in ``relinking.py``, snapshots in ``snapshots.py``."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field

import reversion
from django.db.models.fields.files import FieldFile
from django.utils.text import slugify

from .importing import ParsedStory
from .linking import normalize_alias, parse_html
from .models import Alias, Article, ContextEntry, Figure, Mention, strip_control_characters
from .provenance import edited_since_import, keep_in_history, mark_imported, skip_reason
from .suggestions import DEMONYM_ENDINGS, suggest_names


def articles_mentioning(entry: ContextEntry) -> set[int]:
    return set(
        Mention.objects.filter(**{entry.entry_field: entry}).values_list("article_id", flat=True)
    )


def entry_ensure_name_alias(entry: ContextEntry) -> None:
    """An entry's own name always links to it: keep it in the alias table, as a full form
    (unless the entry lists it already, as it chose)."""
    normalized = normalize_alias(entry.label)
    owned = Alias.objects.filter(normalized=normalized, **{entry.entry_field: entry})
    if len(normalized) >= 2 and not owned.exists():
        Alias.objects.create(text=entry.label, **{entry.entry_field: entry})


@dataclass
class StoryImport:
    """What importing one story did: "created", "updated", "unchanged" (nothing written)
    or "skipped" (an editor changed it since its last import), and why."""

    article: Article
    status: str
    reason: str = ""
    forced: list[str] = field(default_factory=list)  # what an editor had changed


# What an import writes of a story, besides its figures (it keeps the status unless told
# to publish, and never touches the mentions' decisions).
STORY_FIELDS = (
    "headline",
    "dek",
    "byline",
    "outlet",
    "original_url",
    "dateline",
    "published_at",
    "body",
)


def _plain(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, FieldFile):
        return value.name or ""
    return "" if value is None else value


def article_record(article: Article, figures) -> dict:
    """What an import writes of a story, as plain values (``provenance`` digests it)."""
    figure_fields = [
        model_field.name
        for model_field in Figure._meta.concrete_fields
        if model_field.editable and not model_field.primary_key and not model_field.is_relation
    ]
    return {
        **{name: _plain(getattr(article, name)) for name in STORY_FIELDS},
        "figures": [
            {name: _plain(getattr(figure, name)) for name in figure_fields}
            for figure in sorted(figures, key=lambda figure: figure.position)
        ],
    }


def _changed_fields(before: dict, after: dict) -> list[str]:
    return [
        str(Article._meta.get_field(name).verbose_name) if name in STORY_FIELDS else name
        for name in before
        if before[name] != after.get(name)
    ]


def article_import(
    story: ParsedStory,
    *,
    outlet: str = "",
    original_url: str = "",
    published_at: dt.datetime | None = None,
    publish: bool = False,
    force: bool = False,
    comment: str = "",
) -> StoryImport:
    """Create or update a story from a parsed text file.

    The same story (same original URL, else same headline slug) is updated in place and its
    figures replaced, so re-imports never duplicate anything; a re-import that would change
    nothing writes nothing. A story an editor changed since its last import is skipped,
    unless ``force``: then the editor's version stays in its History and the import is a
    revision after it (with ``comment``). Re-importing without ``publish`` keeps a story's
    status: it never takes a live story down."""
    if published_at is None and story.published_on is not None:
        published_at = dt.datetime.combine(story.published_on, dt.time(12), tzinfo=dt.UTC)
    original_url = original_url or story.original_url
    slug = slugify(story.headline, allow_unicode=True)[:180].strip("-")
    stored = None
    if original_url:
        stored = Article.objects.filter(original_url=original_url).first()
    if stored is None and slug:
        stored = Article.objects.filter(slug=slug).first()
    article = copy.copy(stored) if stored is not None else Article(status=Article.Status.DRAFT)
    if publish and published_at is None and article.published_at is None:
        raise ValueError(f"“{story.headline}” has no date, so it cannot be published.")
    article.headline = story.headline
    article.dek = story.dek
    article.byline = story.byline
    article.outlet = outlet or story.outlet
    article.original_url = original_url
    article.dateline = story.dateline
    article.published_at = published_at or article.published_at
    if publish:
        article.status = Article.Status.PUBLISHED
    article.body = story.body_html
    article.full_clean(exclude=["slug"])
    strip_control_characters(article)
    figures = [
        Figure(position=number, caption=figure.caption, credit=figure.credit)
        for number, figure in enumerate(story.figures, start=1)
    ]
    forced: list[str] = []
    if stored is not None:
        current = article_record(stored, stored.figures.all())
        changed = _changed_fields(current, article_record(article, figures))
        if not changed and article.status == stored.status:
            return StoryImport(stored, "unchanged")
        if changed and edited_since_import(stored, record=current):
            if not force:
                return StoryImport(stored, "skipped", skip_reason(stored, changed=changed))
            forced = changed
            keep_in_history([stored], comment="As an editor left it, before a forced import")
    with reversion.create_revision():
        if comment:
            reversion.set_comment(comment)
        article.save()
        article.figures.all().delete()
        for figure in figures:
            figure.article = article
        Figure.objects.bulk_create(figures)
        mark_imported(article, record=article_record(article, article.figures.all()))
        # The version History shows: the story as imported, with its figures.
        reversion.add_to_revision(article)
    return StoryImport(article, "created" if stored is None else "updated", forced=forced)


def article_name_suggestions(article: Article) -> list[str]:
    """Names and acronyms in the story that no mention covers and no alias has (nor, for
    "North Korean", the name it is the adjective of): candidates for new entries."""
    covered = [
        (start, start + len(quote))
        for start, quote in article.mentions.filter(is_orphaned=False).values_list("start", "quote")
        if start is not None
    ]
    names = suggest_names(parse_html(article.body_html).text, covered)
    stems = {
        name: [form] + [form[: -len(ending)] for ending in DEMONYM_ENDINGS if form.endswith(ending)]
        for name, form in ((name, normalize_alias(name)) for name in names)
    }
    wanted = {stem for candidates in stems.values() for stem in candidates}
    known = set(Alias.objects.filter(normalized__in=wanted).values_list("normalized", flat=True))
    return [name for name in names if not known.intersection(stems[name])]
