"""The story admin's mention review: how the linker read each name it found, and the
editor's choice for a name it could not tell (``resolution``'s reasons, in editors' words).

A name left unlinked on purpose (ambiguous, a short form with nothing before it, part of a
longer name) is listed with its candidates; choosing one places an editor's mention there,
which every later relink keeps."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from . import relinking, scheduling
from .linking import anchor, parse_html
from .models import Actor, Article, BackgroundNote, ContextEntry, Mention, entry_key_column
from .resolution import Resolution

# Rows the panel lists; a longer story's rest is summarized by count.
MAX_ROWS = 200


@dataclass(frozen=True)
class Choice:
    entry: ContextEntry
    url: str


@dataclass(frozen=True)
class ReviewRow:
    """One name the linker found, as the review panel shows it."""

    quote: str
    paragraph: int
    reason: str
    entry: ContextEntry | None = None
    choices: list[Choice] = field(default_factory=list)


@dataclass(frozen=True)
class Review:
    linked: list[ReviewRow]
    unlinked: list[ReviewRow]
    more: int = 0


def entries_by_key(keys: set[str]) -> dict[str, ContextEntry]:
    """The entries that entry keys ("actor:3") name, in one query per kind."""
    ids: dict[str, set[int]] = {"actor_id": set(), "note_id": set()}
    for key in keys:
        column, pk = entry_key_column(key)
        ids[column].add(pk)
    found: dict[str, ContextEntry] = {}
    for model, column in ((Actor, "actor_id"), (BackgroundNote, "note_id")):
        if ids[column]:
            for entry in model.objects.filter(pk__in=ids[column]):
                found[entry.entry_key] = entry
    return found


def choose_url(article: Article, resolution: Resolution, entry: ContextEntry) -> str:
    query = urlencode({"start": resolution.start, "end": resolution.end, "entry": entry.entry_key})
    return reverse("admin:explainer_article_choose_mention", args=[article.pk]) + f"?{query}"


def story_review(article: Article) -> Review:
    """Every name the linker found in the story, with how it was read: linked (by which
    rule) or left unlinked on purpose (why, and whom it could be)."""
    result = relinking.article_preview(article)
    parsed = parse_html(article.body_html)
    text = parsed.text
    placed = [(m.start, m.start + len(m.quote), m) for m in result.editor if not m.is_orphaned]
    automatic = {m.start: m for m in result.automatic}
    resolutions = result.resolutions[:MAX_ROWS]
    keys = {r.target for r in resolutions if r.target} | {
        key for r in resolutions for key in r.candidates
    }
    entries = entries_by_key(keys)
    linked: list[ReviewRow] = []
    unlinked: list[ReviewRow] = []
    for resolution in resolutions:
        if resolution.is_title:
            continue
        quote = text[resolution.start : resolution.end]
        paragraph = parsed.paragraph_of(resolution.start)
        by_editor = next(
            (m for start, end, m in placed if start < resolution.end and resolution.start < end),
            None,
        )
        if by_editor is not None:
            linked.append(ReviewRow(quote, paragraph, "placed by an editor", by_editor.entry))
            continue
        if resolution.target is not None and resolution.target in entries:
            mention = automatic.get(resolution.start)
            reason = resolution.reason
            if mention is not None and mention.is_suppressed:
                reason += "; an editor chose “don't link here”"
            elif mention is not None and not mention.is_linked:
                reason += "; linked at its first mention only"
            linked.append(ReviewRow(quote, paragraph, reason, entries[resolution.target]))
            continue
        choices = [
            Choice(entries[key], choose_url(article, resolution, entries[key]))
            for key in resolution.candidates
            if key in entries
        ]
        unlinked.append(ReviewRow(quote, paragraph, resolution.reason, choices=choices))
    return Review(linked, unlinked, more=max(0, len(result.resolutions) - MAX_ROWS))


def _span(request: HttpRequest, text: str) -> tuple[int, int]:
    try:
        start, end = int(request.GET["start"]), int(request.GET["end"])
    except (KeyError, ValueError):
        raise Http404("No such words in the story.") from None
    longest = Mention._meta.get_field("quote").max_length
    if not (0 <= start < end <= len(text)) or end - start > longest:
        raise Http404("No such words in the story.")
    return start, end


def _entry(request: HttpRequest) -> ContextEntry:
    try:
        column, pk = entry_key_column(request.GET.get("entry", ""))
    except (StopIteration, ValueError):
        raise Http404("No such entry.") from None
    model = Actor if column == "actor_id" else BackgroundNote
    return get_object_or_404(model, pk=pk)


def choose_mention_view(model_admin, request: HttpRequest, object_id: int) -> HttpResponse:
    """Link the words at ``start``-``end`` to the chosen entry: a confirmation page, then
    (POST) an editor's mention there, relinked in the background like any edit."""
    article = get_object_or_404(Article, pk=object_id)
    if not (
        model_admin.has_change_permission(request, article)
        and request.user.has_perm("explainer.add_mention")
    ):
        raise PermissionDenied
    text = parse_html(article.body_html).text
    start, end = _span(request, text)
    entry = _entry(request)
    change_url = reverse("admin:explainer_article_change", args=[article.pk])
    if request.method == "POST":
        found = anchor(text=text, start=start, end=end)
        with transaction.atomic(), scheduling.batched():
            Mention.objects.create(
                article=article,
                origin=Mention.Origin.EDITOR,
                quote=found.quote,
                prefix=found.prefix,
                suffix=found.suffix,
                start=found.start,
                **{entry.entry_field: entry},
            )
            relinking.mark_stories_changed([article.pk])
            scheduling.request_relink(
                stories=[article.pk], reason=f"Mention chosen: {found.quote} → {entry}"
            )
        messages.success(request, f"“{found.quote}” now links to {entry}.")
        return redirect(change_url)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Link “{text[start:end]}” to {entry}?",
        "article": article,
        "entry": entry,
        "before": text[max(0, start - 120) : start],
        "quote": text[start:end],
        "after": text[end : end + 120],
        "change_url": change_url,
    }
    return TemplateResponse(request, "admin/explainer/choose_mention.html", context)
